# Shortcuts for the scripts the README documents.
.PHONY: setup up test lint bench
setup:
	scripts/setup
up:
	scripts/up
test:
	scripts/test
lint:
	.venv/bin/ruff check orchestrator cli tests bench
bench:
	.venv/bin/python bench/api.py
