"""Live events: queued during a transaction, emitted only after it commits.

Rooms are ``cohort:{id}``, ``thread:{id}`` and ``user:{id}``. A client asks to join a
room with the ``join`` event; each room kind has one authoriser, registered by the
feature that owns it, that decides from the database whether the user may listen.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from engineio import packet as engineio_packet
from flask import current_app, request, session
from flask_login import current_user
from flask_socketio import Namespace, join_room, leave_room, rooms
from socketio import manager as socketio_manager
from socketio import packet as socketio_packet

from app.config import ConfigError
from app.db import MAX_ID, after_commit_batch, utcnow
from app.extensions import socketio

log = logging.getLogger(__name__)

#: Room kind -> function(user, object_id) -> bool, registered by features.
ROOM_AUTHORISERS: dict[str, Callable] = {}
#: Functions user -> room names that every socket of the user joins as it connects,
#: registered by features. Clients cannot ask for these rooms: only the server joins them.
CONNECT_ROOMS: list[Callable] = []


@dataclass(frozen=True)
class PendingEmit:
    """An event waiting for its transaction to commit."""

    event: str
    payload: dict
    room: str


@dataclass(frozen=True)
class PendingDisconnect:
    """Sockets in a room to close once the transaction commits (sign-out, removal)."""

    room: str


def notify(event_name: str, payload: dict, room: str) -> None:
    """Queue an event for a room; it is emitted after the current transaction commits."""
    after_commit_batch(_send, PendingEmit(event_name, payload, room))


def close_room_sockets(room: str) -> None:
    """Close every socket in a room (``user:ID`` or ``session:ID``) after the commit.

    Outside a transaction, the close happens at once.
    """
    after_commit_batch(_send, PendingDisconnect(room))


@dataclass(frozen=True)
class PendingLeave:
    """A user's sockets to take out of a room once the transaction commits (removal)."""

    user_id: int
    room: str


def leave_room_after_commit(user_id: int, room: str) -> None:
    """Make every socket of a user leave a room after the commit (e.g. ``cohort:ID``).

    Each socket sits in ``user:ID``, so its sids are known without asking the client.
    Outside a transaction, the sockets leave at once.
    """
    after_commit_batch(_send, PendingLeave(user_id, room))


@dataclass(frozen=True)
class PendingMove:
    """A user's sockets in one room to move to another once the transaction commits (a
    learner who has just posted moves from a thread's waiting audience to its readers)."""

    user_id: int
    from_room: str
    to_room: str


def move_user_after_commit(user_id: int, from_room: str, to_room: str) -> None:
    """Move every socket of a user that is in ``from_room`` to ``to_room`` after the
    commit; events queued after this call reach them in their new room."""
    after_commit_batch(_send, PendingMove(user_id, from_room, to_room))


def connect_rooms(rooms_of: Callable) -> Callable:
    """Register a function naming rooms each socket joins on connect (once per function)."""
    if rooms_of not in CONNECT_ROOMS:
        CONNECT_ROOMS.append(rooms_of)
    return rooms_of


def room_kind(kind: str):
    """Register the authoriser for a room kind (``cohort``, ``thread``…)."""
    def register(authorise: Callable) -> Callable:
        ROOM_AUTHORISERS[kind] = authorise
        return authorise
    return register


def _emit_socket_by_socket(emits: list[PendingEmit]) -> None:
    """Emit a commit's events so that each socket gets all of its events back to back.

    A release sends two broadcasts (its notice to the members, the release to the cohort
    room): emitted one after the other, every socket's writer thread would wake once per
    event, and the second event would wait behind the whole first fan-out. Each event is
    encoded once, as ``emit`` does. With a message queue (several workers), events go
    through ``emit``, which publishes them to every worker.
    """
    server = socketio.server
    if type(server.manager) is not socketio_manager.Manager:
        for item in emits:
            socketio.emit(item.event, item.payload, to=item.room)
        return
    per_socket: dict[str, list] = {}
    for item in emits:
        encoded = server.packet_class(socketio_packet.EVENT, namespace="/",
                                      data=[item.event, item.payload]).encode()
        frames = [engineio_packet.Packet(engineio_packet.MESSAGE, part) for part in
                  (encoded if isinstance(encoded, list) else [encoded])]
        for _sid, eio_sid in list(server.manager.get_participants("/", item.room)):
            per_socket.setdefault(eio_sid, []).extend(frames)
    for eio_sid, frames in per_socket.items():
        for frame in frames:
            try:
                server._send_eio_packet(eio_sid, frame)
            except Exception:  # a socket closing meanwhile; the others still get theirs
                log.debug("socket %s closed before its event was sent", eio_sid)


def _deliver(items: list) -> None:
    """Emit queued events (consecutive ones together) and close or move queued sockets."""
    emits: list[PendingEmit] = []
    for index, item in enumerate(items):
        if isinstance(item, PendingEmit):
            emits.append(item)
            if index + 1 < len(items) and isinstance(items[index + 1], PendingEmit):
                continue
        try:
            if emits:
                batch, emits = emits, []
                _emit_socket_by_socket(batch)
            elif isinstance(item, PendingLeave):
                participants = socketio.server.manager.get_participants(
                    "/", f"user:{item.user_id}")
                for sid, _eio_sid in list(participants):
                    socketio.server.leave_room(sid, item.room, namespace="/")
            elif isinstance(item, PendingMove):
                participants = socketio.server.manager.get_participants(
                    "/", f"user:{item.user_id}")
                for sid, _eio_sid in list(participants):
                    if item.from_room in socketio.server.rooms(sid, namespace="/"):
                        socketio.server.leave_room(sid, item.from_room, namespace="/")
                        socketio.server.enter_room(sid, item.to_room, namespace="/")
            else:
                participants = socketio.server.manager.get_participants("/", item.room)
                for sid, _eio_sid in list(participants):
                    socketio.server.disconnect(sid, namespace="/")
        except Exception:  # a live update is best effort; the data is already saved
            log.exception("delivering live event failed")


def _send(items: list) -> None:
    """Hand a committed transaction's events and socket changes to Socket.IO, in order."""
    if getattr(socketio, "server", None) is None:
        return
    # Emitting to N sockets takes ~0.1 ms each: do it off the request thread.
    if current_app.config.get("REALTIME_EMIT_INLINE"):
        _deliver(items)
    else:
        socketio.start_background_task(_deliver, items)


def socket_user():
    """The signed-in user of the current socket event, or None.

    Browsers authenticate with the session cookie (re-checked on every event, so a
    revoked session stops working at once); integrations pass ``auth: {token}``.
    """
    from app.accounts.tokens import authenticate_api_token

    if current_user.is_authenticated:
        return current_user._get_current_object()
    token = session.get("socket_token")
    if token:
        return authenticate_api_token(token, utcnow())
    return None


class RootNamespace(Namespace):
    """The one Socket.IO namespace: authenticated connect, authorised join and leave."""

    def on_connect(self, auth=None):
        """Refuse clients that are not signed in; put others in their own user room.

        Sockets also join the room of what signed them in (``session:ID`` or
        ``token:ID``), so signing out or revoking the token closes them.
        """
        from app.accounts.tokens import get_valid_api_token

        user = current_user._get_current_object() if current_user.is_authenticated else None
        if user is not None:
            credential_room = f"session:{user.session_key.split('.', 1)[0]}"
        elif isinstance(auth, dict):
            token = get_valid_api_token(auth.get("token"), utcnow())
            if token is None:
                raise ConnectionRefusedError("not_signed_in")
            user = token.user
            session["socket_token"] = auth["token"]
            credential_room = f"token:{token.id}"
        else:
            raise ConnectionRefusedError("not_signed_in")
        join_room(f"user:{user.id}")
        join_room(credential_room)
        for rooms_of in CONNECT_ROOMS:
            for room in rooms_of(user):
                join_room(room)
        log.debug("socket %s connected for user %s", request.sid, user.id)

    def on_join(self, data):
        """Join ``cohort:ID`` or ``thread:ID`` after the owning feature's check."""
        user = socket_user()
        if user is None:
            return {"ok": False, "error": "not_signed_in"}
        room = data.get("room") if isinstance(data, dict) else None
        kind, _, raw_id = room.partition(":") if isinstance(room, str) else ("", "", "")
        authorise = ROOM_AUTHORISERS.get(kind)
        # isascii: "²" and other Unicode digits pass isdigit() but not int(). Ids are
        # 32-bit INTEGER columns; PostgreSQL fails a query on a larger number.
        if authorise is None or not (raw_id.isascii() and raw_id.isdigit()) \
                or len(raw_id) > 10 or int(raw_id) > MAX_ID:
            return {"ok": False, "error": "not_found"}
        allowed = authorise(user, int(raw_id))
        if not allowed:
            return {"ok": False, "error": "not_found"}
        # An authoriser may name the audience room to join instead (a thread's readers,
        # its staff, or learners still to post), so each receives its own presentation.
        audience = allowed if isinstance(allowed, str) else room
        join_room(audience)
        return {"ok": True, "room": room}

    def on_leave(self, data):
        """Leave a room the client joined (and any audience room it was put in for it)."""
        room = data.get("room") if isinstance(data, dict) else None
        if isinstance(room, str) and room.partition(":")[0] in ROOM_AUTHORISERS:
            for joined in list(rooms()):
                if joined == room or joined.startswith(f"{room}:"):
                    leave_room(joined)
        return {"ok": True}


def allowed_origins(config) -> str | list[str] | None:
    """The origins allowed to open a socket; None means this site's own origin only.

    "*", ["*"] and [] all switch engine.io's origin check off, which would let any web
    page open a socket with a visitor's cookies (RT-5), so they are refused.
    """
    origins = config.get("SOCKETIO_ALLOWED_ORIGINS")
    if origins is None:
        return None
    listed = [origins] if isinstance(origins, str) else list(origins)
    if not listed or "*" in listed:
        raise ConfigError("SOCKETIO_ALLOWED_ORIGINS must name origins, e.g. "
                          "['https://learn.example.org']; '*' and [] are not allowed.")
    return listed


def init_app(app) -> None:
    """Bind Socket.IO to the app: threading mode, same-origin only, Redis queue if set."""
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=app.config.get("REDIS_URL"),
        cors_allowed_origins=allowed_origins(app.config),
        max_http_buffer_size=100_000,
        logger=False,
        engineio_logger=False,
    )
    socketio.on_namespace(RootNamespace("/"))
