"""A stand-in for the Emojivoto web app behind the simulated gateway (clearly marked SIMULATED).

It answers the paths the real web service serves: the page titled "Emoji Vote", /api/list,
/api/leaderboard and /api/vote, where the doughnut always fails with 500 as in the v11 images.
"""

from __future__ import annotations

import json

EMOJI = [(":joy:", "\U0001F602"), (":sunglasses:", "\U0001F60E"), (":doughnut:", "\U0001F369"),
         (":stuck_out_tongue_winking_eye:", "\U0001F61C"), (":money_mouth_face:", "\U0001F911"),
         (":flushed:", "\U0001F633"), (":mask:", "\U0001F637"), (":nerd_face:", "\U0001F913"),
         (":ghost:", "\U0001F47B"), (":skull_and_crossbones:", "\u2620\ufe0f"), (":heart_eyes_cat:", "\U0001F63B"),
         (":speak_no_evil:", "\U0001F64A"), (":see_no_evil:", "\U0001F648"), (":hear_no_evil:", "\U0001F649")]

INDEX = """<!DOCTYPE html>
<html>
  <head>
    <meta charset="UTF-8">
    <title>Emoji Vote</title>
    <link rel="icon" href="/img/favicon.ico">
  </head>
  <body>
    <div id="main" class="main">
      <h1>Emoji Vote</h1>
      <p>SIMULATED Emojivoto web app, served by the gateway-tutorial sandbox through your Gateway.</p>
      <p>Your request reached it via the HTTPRoute {route}.</p>
      <ul>{items}</ul>
    </div>
    <script type="text/javascript" src="/js" async></script>
  </body>
</html>
"""


def respond(method: str, path: str, query: dict[str, str], route: str) -> tuple[int, str, str]:
    """(status, content type, body) for one request to the simulated web-svc."""
    if path == "/api/list":
        return 200, "application/json", json.dumps([{"shortcode": s, "unicode": u} for s, u in EMOJI])
    if path == "/api/leaderboard":
        board = [{"shortcode": s, "unicode": u, "votes": 0} for s, u in EMOJI[:5]]
        return 200, "application/json", json.dumps(board)
    if path == "/api/vote":
        choice = query.get("choice", "")
        if not any(choice == s for s, _ in EMOJI):
            return 400, "application/json", json.dumps({"error": f"Invalid emoji: {choice}"})
        if choice == ":doughnut:":
            # The v11 voting service always fails the doughnut on purpose (a Linkerd debugging demo).
            return 500, "application/json", json.dumps(
                {"error": "rpc error: code = Unknown desc = ERROR"})
        return 200, "application/json", ""
    if path == "/js":
        return 200, "application/javascript", "// SIMULATED emojivoto bundle\n"
    items = "".join(f"<li>{u} {s}</li>" for s, u in EMOJI)
    return 200, "text/html; charset=utf-8", INDEX.format(route=route or "(unknown)", items=items)


def generic(service: str, route: str) -> tuple[int, str, str]:
    """Any other backend: a plain page naming the Service the route reached."""
    body = (f"SIMULATED backend: Service {service} answered through HTTPRoute {route} "
            "(gateway-tutorial sandbox)\n")
    return 200, "text/plain; charset=utf-8", body
