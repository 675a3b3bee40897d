"""The baseline server: Flask-SocketIO doing nothing but echoing, on the same stack as Constituent.

Same async mode (threading, simple-websocket), same in-order handling (async_handlers=False), same
gunicorn gthread worker (one process). `echo` answers with its argument through the ack, and
`echo_emit` sends it back as an event, like the server's binary `y` messages.

Run:  .venv/bin/python bench/echo_server.py PORT [THREADS]
"""

from __future__ import annotations

import sys

from flask import Flask
from flask_socketio import SocketIO, emit

app = Flask(__name__)
socketio = SocketIO(app, async_mode="threading", async_handlers=False)


@socketio.on("echo", namespace="/echo")
def echo(data):
    return data


@socketio.on("echo_emit", namespace="/echo")
def echo_emit(data):
    emit("echoed", data)


def main() -> None:
    from gunicorn.app.base import BaseApplication

    port = int(sys.argv[1])
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 50

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"127.0.0.1:{port}")
            self.cfg.set("workers", 1)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", None)

        def load(self):
            return app

    Server().run()


if __name__ == "__main__":
    main()
