"""Name, label and port syntax checks return Kubernetes' exact messages."""

from __future__ import annotations

import pytest

from orchestrator.api import names

SUBDOMAIN_ERROR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_ERROR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end "
    "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_ERROR = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation "
    "is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
QUALIFIED_NAME_PART_ERROR = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_ERROR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        pytest.param(names.is_dns1123_subdomain, "example.com", [], id="subdomain-ok"),
        pytest.param(names.is_dns1123_subdomain, "Example.com", [SUBDOMAIN_ERROR], id="subdomain-uppercase"),
        pytest.param(names.is_dns1123_subdomain, "a" * 254, ["must be no more than 253 characters"], id="subdomain-too-long"),
        pytest.param(names.is_dns1123_subdomain, "web\n", [SUBDOMAIN_ERROR], id="subdomain-trailing-newline"),
        pytest.param(names.is_dns1123_label, "my-name", [], id="label-ok"),
        pytest.param(names.is_dns1123_label, "my.name", [LABEL_ERROR], id="label-dot"),
        pytest.param(names.is_dns1123_label, "-x", [LABEL_ERROR], id="label-leading-dash"),
        pytest.param(names.is_dns1123_label, "a" * 64, ["must be no more than 63 characters"], id="label-too-long"),
        pytest.param(names.is_dns1035_label, "web", [], id="dns1035-ok"),
        pytest.param(names.is_dns1035_label, "1web", [DNS1035_ERROR], id="dns1035-leading-digit"),
        pytest.param(names.is_qualified_name, "example.com/My_name", [], id="qualified-ok"),
        pytest.param(names.is_qualified_name, "a/b/c", [
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
            "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. "
            "'example.com/MyName')"], id="qualified-two-slashes"),
        pytest.param(names.is_qualified_name, "/x", ["prefix part must be non-empty"], id="qualified-empty-prefix"),
        pytest.param(names.is_qualified_name, "Bad_Prefix/x", ["prefix part " + SUBDOMAIN_ERROR], id="qualified-bad-prefix"),
        pytest.param(names.is_qualified_name, "", ["name part must be non-empty", QUALIFIED_NAME_PART_ERROR],
                     id="qualified-empty"),
        pytest.param(names.is_qualified_name, "-x", [QUALIFIED_NAME_PART_ERROR], id="qualified-leading-dash"),
        pytest.param(names.is_valid_label_value, "", [], id="label-value-empty-ok"),
        pytest.param(names.is_valid_label_value, "v1.2_b", [], id="label-value-ok"),
        pytest.param(names.is_valid_label_value, "a b", [LABEL_VALUE_ERROR], id="label-value-space"),
        pytest.param(names.is_c_identifier, "MY_NAME", [], id="c-identifier-ok"),
        pytest.param(names.is_c_identifier, "1X", [
            "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric "
            "characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex used for validation is "
            "'[A-Za-z_][A-Za-z0-9_]*')"], id="c-identifier-digit"),
        pytest.param(names.is_relaxed_env_var_name, "1-weird.NAME!", [], id="env-relaxed-ok"),
        pytest.param(names.is_relaxed_env_var_name, "A=B", [
            "a valid environment variable name must consist only of printable ASCII characters other than '='"],
            id="env-relaxed-equals"),
        pytest.param(names.is_relaxed_env_var_name, "", ["environment variable name must be non-empty"], id="env-relaxed-empty"),
        pytest.param(names.is_config_map_key, "..data", ["must not start with '..'"], id="config-key-dotdot"),
        pytest.param(names.is_valid_percent, "25%", [], id="percent-ok"),
        pytest.param(names.is_valid_ip, "10.0.0.1", [], id="ip-ok"),
        pytest.param(names.is_valid_ip, "10.0.0", ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"], id="ip-bad"),
        pytest.param(names.is_valid_cidr, "10.0.0.0/8", [], id="cidr-ok"),
        pytest.param(names.is_valid_cidr, "10.0.0.1", ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"],
                     id="cidr-without-length"),
    ],
)
def test_string_checks(check, value, expected):
    assert check(value) == expected


@pytest.mark.parametrize(
    ("port_name", "expected"),
    [
        pytest.param("http", [], id="ok"),
        pytest.param("http-alt-8080ab", [], id="fifteen-characters"),
        pytest.param("8080", ["must contain at least one letter (a-z)"], id="digits-only"),
        pytest.param("my--port", ["must not contain consecutive hyphens"], id="double-hyphen"),
        pytest.param("-port", ["must not begin or end with a hyphen"], id="leading-hyphen"),
        pytest.param("a-very-long-port-name", ["must be no more than 15 characters"], id="too-long"),
        pytest.param("HTTP", ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                              "must contain at least one letter (a-z)"], id="uppercase"),
    ],
)
def test_port_names(port_name, expected):
    assert names.is_valid_port_name(port_name) == expected


@pytest.mark.parametrize(
    ("port", "valid"),
    [pytest.param(1, True, id="one"), pytest.param(65535, True, id="max"),
     pytest.param(0, False, id="zero"), pytest.param(65536, False, id="above-max")],
)
def test_port_numbers(port, valid):
    assert names.is_valid_port_num(port) == ([] if valid else ["must be between 1 and 65535, inclusive"])


@pytest.mark.parametrize(
    ("validator", "name", "prefix", "valid"),
    [
        pytest.param(names.name_is_dns_subdomain, "web-", True, True, id="generate-name-trailing-dash"),
        pytest.param(names.name_is_dns_subdomain, "web-", False, False, id="name-trailing-dash"),
        pytest.param(names.name_is_dns1035_label, "svc-", True, True, id="service-generate-name"),
        pytest.param(names.name_is_dns_label, "ns.with.dots", False, False, id="namespace-dots"),
    ],
)
def test_name_validators(validator, name, prefix, valid):
    assert (validator(name, prefix) == []) is valid


def test_generate_name_appends_five_safe_characters():
    generated = names.generate_name("web-")
    assert generated.startswith("web-")
    assert len(generated) == len("web-") + 5
    assert set(generated[4:]) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_generate_name_truncates_long_bases_to_fit_a_label():
    generated = names.generate_name("x" * 80)
    assert generated[:58] == "x" * 58
    assert len(generated) == 63
