"""The lightest ASGI app: reads the body, answers a fixed prediction-shaped JSON.

The floor of ``benchmarks/api_latency.py``: served by the same uvicorn as the
API, it shows what the server and the client cost without the API's work.
"""

ANSWER = (
    b'{"label":"positive","confidence":0.9,"probabilities":{"negative":0.05,'
    b'"neutral":0.05,"positive":0.9},"needs_review":false,"status":"ok",'
    b'"truncated":false,"model_version":"echo"}'
)


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(ANSWER)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": ANSWER})
