"""Development server: the app and its Socket.IO endpoint on http://localhost:5011."""

from gevent import monkey

monkey.patch_all()

from psycogreen.gevent import patch_psycopg  # noqa: E402

patch_psycopg()

import os  # noqa: E402

from imperioApp import create_app  # noqa: E402
from imperioApp.collector import freeze_loaded_objects  # noqa: E402
from imperioApp.extensions import socketio  # noqa: E402

app = create_app()
freeze_loaded_objects(app.config["GC_THRESHOLD"])

if __name__ == "__main__":
    port = int(os.environ.get("PORT", "5011"))
    print(f"ImperioCasino serving on http://localhost:{port}", flush=True)
    socketio.run(app, host=os.environ.get("HOST", "127.0.0.1"), port=port)
