"""The simulated Envoy's pure pieces: hostnames, isolation, RE2 matches, filters, timeouts.

End-to-end behaviour (through real sockets, with the upstream conformance manifests) is in
test_conformance.py; these pin the rules themselves.
"""

from __future__ import annotations

import pytest

from tutorial.sandbox.istio import envoy, matching
from tutorial.sandbox.istio.binding import listeners_of


@pytest.mark.parametrize("listener, route, expected", [
    ("", "foo.example.com", "foo.example.com"),
    ("*.example.com", "foo.example.com", "foo.example.com"),
    ("foo.example.com", "*.example.com", "foo.example.com"),
    ("*.example.com", "*.foo.example.com", "*.foo.example.com"),
    ("*.foo.example.com", "*.example.com", "*.foo.example.com"),
    ("very.specific.com", "other.com", None),
    ("*.example.com", "example.com", None),  # a wildcard needs at least one more label
    ("foo.example.com", "", "foo.example.com"),
])
def test_hostname_intersection(listener, route, expected):
    assert matching.intersect(listener, route) == expected


def test_the_most_specific_listener_alone_serves_a_host():
    gw = {"metadata": {"name": "g", "namespace": "n"}, "spec": {"listeners": [
        {"name": "empty", "port": 80, "protocol": "HTTP"},
        {"name": "wildcard", "port": 80, "protocol": "HTTP", "hostname": "*.example.com"},
        {"name": "foo-wildcard", "port": 80, "protocol": "HTTP", "hostname": "*.foo.example.com"},
        {"name": "abc", "port": 80, "protocol": "HTTP", "hostname": "abc.foo.example.com"}]}}
    pick = {h: matching.isolated_listener(gw, 80, h).name for h in
            ("bar.com", "bar.example.com", "bar.foo.example.com", "abc.foo.example.com")}
    assert pick == {"bar.com": "empty", "bar.example.com": "wildcard", "bar.foo.example.com": "foo-wildcard",
                    "abc.foo.example.com": "abc"}
    assert [lst.name for lst in listeners_of(gw)][0] == "empty"


def test_regular_expressions_are_re2_full_matches():
    assert matching.regex_full(r"/v\d+/.*", "/v2/x")
    assert not matching.regex_full(r"/v\d+", "/v2/x")  # full match, not search
    assert not matching.regex_full(r"(a)\1", "aa")  # backreferences are not RE2: never matches
    match = {"headers": [{"type": "RegularExpression", "name": "Version", "value": "v[12]"}]}
    assert matching.match_weight(match, "GET", "/", {"version": "v2"}, {}) is not None
    assert matching.match_weight(match, "GET", "/", {"version": "v3"}, {}) is None


@pytest.mark.parametrize("path, prefix, replacement, expected", [
    ("/prefix/one/two", "/prefix/one", "/one", "/one/two"),
    ("/strip-prefix/three", "/strip-prefix", "/", "/three"),
    ("/strip-prefix", "/strip-prefix", "/", "/"),
    ("/original-prefix/lemon", "/original-prefix", "/replacement-prefix", "/replacement-prefix/lemon"),
])
def test_replace_prefix_match(path, prefix, replacement, expected):
    match = {"path": {"type": "PathPrefix", "value": prefix}}
    spec = {"type": "ReplacePrefixMatch", "replacePrefixMatch": replacement}
    assert envoy.replace_path(path, match, spec) == expected


@pytest.mark.parametrize("listener_port, scheme, spec, location", [
    (80, "http", {"hostname": "example.org"}, "http://example.org/p"),
    (8080, "http", {"hostname": "example.org"}, "http://example.org:8080/p"),
    (80, "http", {"hostname": "example.org", "port": 8080}, "http://example.org:8080/p"),
    (8080, "http", {"hostname": "example.org", "scheme": "https"}, "https://example.org/p"),
    (80, "http", {"hostname": "example.org", "scheme": "https", "port": 8443}, "https://example.org:8443/p"),
    (443, "https", {"hostname": "example.org", "scheme": "http"}, "http://example.org/p"),
    (443, "https", {"hostname": "example.org"}, "https://example.org/p"),
])
def test_redirect_ports_as_envoy_writes_them(listener_port, scheme, spec, location):
    req = envoy.Request("GET", "/p", [("Host", "gw.example")], scheme=scheme, port=listener_port)
    response = envoy._redirect(spec, {}, req)
    assert (response.status, dict(response.headers)["location"]) == (302, location)


def test_header_modifier_set_add_remove():
    headers = [("X-Keep", "1"), ("x-set", "old"), ("X-Add", "a"), ("X-Remove", "gone")]
    out = envoy.modify_headers(headers, {"set": [{"name": "X-Set", "value": "new"}],
                                         "add": [{"name": "X-Add", "value": "b"}], "remove": ["x-remove"]})
    assert out == [("X-Keep", "1"), ("X-Add", "a"), ("X-Set", "new"), ("X-Add", "b")]


def test_durations():
    assert envoy.parse_duration("500ms") == 0.5
    assert envoy.parse_duration("1m1s") == 61
    assert envoy.parse_duration("0s") is None and envoy.parse_duration(None) is None
