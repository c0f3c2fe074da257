"""The WSGI entry point, and the single-process server: ``python wsgi.py``.

``python wsgi.py`` serves HTTP and Socket.IO and runs the scheduler in the same process
(unless ``SCHEDULER_ENABLED=0``). Under gunicorn only ``app`` is used and no scheduler
starts here: run ``flask scheduler run`` as its own process.
"""

from app import create_app
from app.extensions import socketio
from app.scheduler import start_in_process

app = create_app()


def serve() -> None:
    """Serve HTTP and Socket.IO on HOST:PORT in one process, without the reloader."""
    start_in_process(app)
    host, port = app.config["HOST"], app.config["PORT"]
    app.logger.info("Serving Cohort Commons on http://%s:%s", host, port)
    socketio.run(app, host=host, port=port, use_reloader=False, debug=False,
                 allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    serve()
