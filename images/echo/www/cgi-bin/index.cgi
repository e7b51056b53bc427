#!/bin/sh
# busybox httpd runs /cgi-bin/index.cgi for a directory URL without index.html, so this answers GET /.
printf 'Content-Type: application/json\r\n\r\n'
printf '{"host": "%s", "version": "%s"}\n' "$(hostname)" "${VERSION:-unknown}"
