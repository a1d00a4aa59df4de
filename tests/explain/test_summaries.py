"""Evidence summaries keep what the rules match on."""

from tutorial.engine.explain_rules.summaries import gateway_summary


def test_listener_conditions_are_read_from_the_listener_status_entry():
    gw = {"metadata": {"name": "emojivoto", "namespace": "istio-ingress"},
          "spec": {"gatewayClassName": "istio", "listeners": [{"name": "emojivoto", "port": 8080, "protocol": "http"}]},
          "status": {"listeners": [{"name": "emojivoto", "attachedRoutes": 0, "conditions": [
              {"type": "Accepted", "status": "False", "reason": "UnsupportedProtocol",
               "message": 'protocol "http" is unsupported. hint: "HTTP" (uppercase) may be supported'}]}]}}
    listener = gateway_summary(gw)["listeners"][0]
    assert listener["conditions"] == [{"type": "Accepted", "status": "False", "reason": "UnsupportedProtocol",
                                       "message": 'protocol "http" is unsupported. hint: "HTTP" (uppercase) may be supported'}]
