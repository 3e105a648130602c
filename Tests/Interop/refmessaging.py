"""Stdlib-only re-creation of the clever-show reference ``messaging`` module.

Written from ``shared/protocol/PROTOCOL.md`` and the reference API page, for
interoperability tests of the Swift implementation.  It speaks the same wire
format byte for byte (see ``MessageManager``) and keeps the reference's
observable behaviour:

* random 4-digit request ids (``sequential_ids=True`` switches to a counter);
* unknown request, or a request handler that raises: logged, **no** reply;
* unknown action: logged, frame dropped, connection kept;
* a response that matches no pending request (id and requested value):
  logged as "unexpected response" and dropped;
* ``resend_requests`` (default on) / ``resume_queue`` (default off);
* ``buffer_size`` (1024) bytes per ``recv``/``send`` call;
* TCP keepalive 1/3/5 and ``TCP_NODELAY`` (see ``prepare_socket``).

Where the reference is plainly broken, this module is correct instead (each
spot is marked "reference:" below): resent requests carry their real
arguments (``quirk_resend_null_args=True`` restores the reference's
``args: null, kwargs: {}``), a mismatched response does not destroy the
pending request, a JSON ``null`` content does not wedge the decoder, partial
frames never leak across a reconnect, and received data is buffered without
quadratic copying.
"""

import collections
import json
import logging
import os
import platform
import random
import selectors
import socket
import struct
import sys
import threading

logger = logging.getLogger("refmessaging")

#: Header keys every frame must carry.
REQUIRED_HEADERS = (
    "byteorder",
    "content-type",
    "content-encoding",
    "content-length",
    "message-type",
)


class ProtocolError(ValueError):
    """A frame that can not be decoded; the connection must be reset."""


class PeerClosed(RuntimeError):
    """The peer closed the connection (``recv`` returned no data)."""


class Namespace:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def __getitem__(self, key):
        return self.__dict__[key]

    def __setitem__(self, key, value):
        self.__dict__[key] = value

    def __repr__(self):
        items = ", ".join("{}={!r}".format(k, v) for k, v in self.__dict__.items()
                          if k != "callback")
        return "{}({})".format(type(self).__name__, items)


class PendingRequest(Namespace):
    pass


class _Defer:
    def __repr__(self):
        return "DEFER"


#: A request handler may return DEFER to answer later with
#: ``ConnectionManager.send_response`` (the reference has no such thing; the
#: test peer uses it for its ``slow`` request).  ``connection.current_request``
#: holds the requested value, id and connection generation during the call.
DEFER = _Defer()


def get_ip_address():
    """Returns the loopback address.

    reference: probes the default route by connecting a UDP socket to a public
    address; this test module never touches anything but 127.0.0.1.
    """
    return "127.0.0.1"


def set_keepalive(sock, after_idle_sec=1, interval_sec=3, max_fails=5):
    """Sets keepalive parameters of the given socket."""
    current_platform = platform.system()
    if current_platform == "Linux":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, after_idle_sec)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, interval_sec)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, max_fails)
        return
    if current_platform == "Windows":
        sock.ioctl(socket.SIO_KEEPALIVE_VALS, (1, after_idle_sec * 1000, interval_sec * 1000))
        return
    if current_platform == "Darwin":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, 0x10, interval_sec)  # TCP_KEEPALIVE
        return
    raise NotImplementedError


def prepare_socket(sock):
    """Non-blocking, keepalive (1, 3, 5) and TCP_NODELAY, as the reference sets up
    every connected socket."""
    sock.setblocking(False)
    set_keepalive(sock, 1, 3, 5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class MessageManager:
    """One incoming frame being decoded, plus the frame encoders.

    Frame: 2-byte big-endian header length N, N bytes of JSON header (UTF-8),
    then ``content-length`` bytes of content.
    """

    def __init__(self):
        self.income_raw = bytearray()
        self._jsonheader_len = None
        self.jsonheader = None
        self.content = None
        # reference: uses ``content is not None`` as "done", so a JSON null
        # content never completes; an explicit flag is used here.
        self.complete = False

    # -- encoding ---------------------------------------------------------

    @staticmethod
    def _json_encode(obj, encoding="utf-8"):
        return json.dumps(obj, ensure_ascii=False).encode(encoding)

    @staticmethod
    def _json_decode(json_bytes, encoding="utf-8"):
        return json.loads(bytes(json_bytes).decode(encoding))

    @classmethod
    def create_message(cls, content_bytes, content_type, message_type, content_encoding="utf-8",
                       additional_headers=None, byteorder=None):
        """Returns one encoded frame (bytes)."""
        jsonheader = {
            "byteorder": byteorder or sys.byteorder,
            "content-type": content_type,
            "content-encoding": content_encoding,
            "content-length": len(content_bytes),
            "message-type": message_type,
        }
        if additional_headers:
            jsonheader.update(additional_headers)
        jsonheader_bytes = cls._json_encode(jsonheader, "utf-8")
        if len(jsonheader_bytes) > 0xFFFF:
            raise ValueError("JSON header too long: {} bytes".format(len(jsonheader_bytes)))
        return struct.pack(">H", len(jsonheader_bytes)) + jsonheader_bytes + bytes(content_bytes)

    @classmethod
    def create_json_message(cls, contents, additional_headers=None, byteorder=None):
        return cls.create_message(cls._json_encode(contents), "json", "message",
                                  additional_headers=additional_headers, byteorder=byteorder)

    @classmethod
    def create_action_message(cls, action, args=(), kwargs=None, additional_headers=None,
                              byteorder=None):
        if kwargs is None:
            kwargs = {}
        headers = {"action": action}
        if additional_headers:
            headers.update(additional_headers)
        return cls.create_json_message({"args": args, "kwargs": kwargs}, headers, byteorder)

    @classmethod
    def create_request(cls, requested_value, request_id, args=(), kwargs=None,
                       additional_headers=None, byteorder=None):
        if kwargs is None:
            kwargs = {}
        contents = {"requested_value": requested_value,
                    "request_id": request_id,
                    "args": args,
                    "kwargs": kwargs,
                    }
        return cls.create_message(cls._json_encode(contents), "json", "request",
                                  additional_headers=additional_headers, byteorder=byteorder)

    @classmethod
    def create_response(cls, requested_value, request_id, value, filetransfer=False,
                        byteorder=None):
        headers = {"requested_value": requested_value,
                   "request_id": request_id,
                   }
        if filetransfer:
            contents = value
        else:
            contents = cls._json_encode({"value": value})
        return cls.create_message(contents, "binary" if filetransfer else "json", "response",
                                  additional_headers=headers, byteorder=byteorder)

    @classmethod
    def create_file_message(cls, data, dest_filepath, byteorder=None):
        return cls.create_message(data, "binary", "message",
                                  additional_headers={"action": "filetransfer",
                                                      "filepath": dest_filepath},
                                  byteorder=byteorder)

    # -- decoding ---------------------------------------------------------

    def _process_protoheader(self):
        if len(self.income_raw) >= 2:
            self._jsonheader_len = struct.unpack(">H", bytes(self.income_raw[:2]))[0]
            del self.income_raw[:2]

    def _process_jsonheader(self):
        header_len = self._jsonheader_len
        if len(self.income_raw) < header_len:
            return
        raw = bytes(self.income_raw[:header_len])
        del self.income_raw[:header_len]
        try:
            header = self._json_decode(raw, "utf-8")
        except ValueError as error:
            raise ProtocolError("Invalid JSON header {!r}: {}".format(raw[:200], error))
        if not isinstance(header, dict):
            raise ProtocolError("JSON header is not an object: {!r}".format(raw[:200]))
        for reqhdr in REQUIRED_HEADERS:
            if reqhdr not in header:
                raise ProtocolError("Missing required header {}".format(reqhdr))
        length = header["content-length"]
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise ProtocolError("Invalid content-length {!r}".format(length))
        self.jsonheader = header

    def _process_content(self):
        content_len = self.jsonheader["content-length"]
        if len(self.income_raw) < content_len:
            return
        data = bytes(self.income_raw[:content_len])
        del self.income_raw[:content_len]
        if self.jsonheader["content-type"] == "json":
            encoding = self.jsonheader["content-encoding"]
            try:
                self.content = self._json_decode(data, encoding)
            except (ValueError, LookupError, TypeError) as error:
                raise ProtocolError("Invalid JSON content: {}".format(error))
        else:
            self.content = data
        self.complete = True

    def process_message(self):
        """Consumes as much of ``income_raw`` as the current frame needs."""
        if self._jsonheader_len is None:
            self._process_protoheader()
        if self._jsonheader_len is not None and self.jsonheader is None:
            self._process_jsonheader()
        if self.jsonheader is not None and not self.complete:
            self._process_content()


def decode_frames(data):
    """Decodes a byte string holding whole frames; returns a list of
    ``MessageManager`` objects.  Raises ProtocolError on leftovers."""
    frames = []
    buffer = bytearray(data)
    while buffer:
        message = MessageManager()
        message.income_raw = buffer
        message.process_message()
        if not message.complete:
            raise ProtocolError("Truncated frame ({} bytes left)".format(len(buffer)))
        buffer = message.income_raw
        message.income_raw = bytearray()
        frames.append(message)
    return frames


def message_callback(action_string):
    """Decorator: register ``f(connection, *args, **kwargs)`` for an action."""
    def inner(f):
        ConnectionManager.messages_callbacks[action_string] = f
        logger.debug("Registered message function %s for %s", f, action_string)
        return f
    return inner


def request_callback(string_command):
    """Decorator: register ``f(connection, *args, **kwargs) -> value`` for a
    requested value."""
    def inner(f):
        ConnectionManager.requests_callbacks[string_command] = f
        logger.debug("Registered request function %s for %s", f, string_command)
        return f
    return inner


class Notifier:
    """Wakes a selector from another thread (a socketpair; the reference uses a
    TCP socket bound on all interfaces for this)."""

    def __init__(self, selector=None):
        self._receiving_sock, self._sending_sock = socket.socketpair()
        self._receiving_sock.setblocking(False)
        self._sending_sock.setblocking(False)
        self._lock = threading.Lock()
        if selector is not None:
            self.register(selector)

    def register(self, selector):
        selector.register(self._receiving_sock, selectors.EVENT_READ, data=self)

    def get_sock(self):
        return self._receiving_sock

    def notify(self):
        with self._lock:
            try:
                self._sending_sock.send(b"\0")
            except (BlockingIOError, OSError):
                pass  # plenty of wake-ups already pending, or closed

    def process_events(self, mask):
        while True:
            try:
                if not self._receiving_sock.recv(4096):
                    return
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                logger.error("Notifier: %s", error)
                return

    def close(self):
        for sock in (self._receiving_sock, self._sending_sock):
            try:
                sock.close()
            except OSError:
                pass


class ConnectionManager:
    """One TCP connection speaking the messaging protocol.

    Used like the reference: ``connect(selector, socket, addr)`` with a
    non-blocking socket, then call ``process_events(mask)`` for every selector
    event whose ``data`` is this object.  ``process_events`` raises on a lost
    connection or a protocol error; the owner must then call ``_close()``
    (and may ``connect`` the same object again later).
    """

    messages_callbacks = {}
    requests_callbacks = {}
    #: Optional ``Notifier``; ``_send`` pokes it so a selector blocked in
    #: another thread notices new outgoing data.
    notifier = None

    def __init__(self, whoami="computer", sequential_ids=False):
        self.selector = None
        self.socket = None
        self.addr = None

        self._should_close = False

        self._recv_buffer = bytearray()
        self._send_buffer = b""
        self._send_offset = 0
        self._incoming = None  # MessageManager being filled

        self.whoami = whoami

        self._send_queue = collections.deque()
        self._request_queue = collections.OrderedDict()

        self._send_lock = threading.Lock()
        self._request_lock = threading.Lock()
        self._close_lock = threading.Lock()

        self.buffer_size = 1024
        self.resume_queue = False
        self.resend_requests = True

        self.sequential_ids = sequential_ids
        self._request_counter = 0
        #: Emulate the reference's resend bug (args null, kwargs {}).
        self.quirk_resend_null_args = False

        #: Incremented by every ``connect``.
        self.generation = 0
        #: During a request handler call: Namespace(requested_value, request_id, generation).
        self.current_request = None
        #: During a handler call: the MessageManager being handled.
        self.current_message = None
        #: Outcome of the last file write (push or file response).
        self.last_filetransfer_ok = None

    # -- state ------------------------------------------------------------

    @property
    def connected(self):
        return self.socket is not None

    def pending_requests(self):
        with self._request_lock:
            return collections.OrderedDict(self._request_queue)

    def is_flushed(self):
        """True when nothing is queued or half-written."""
        with self._send_lock:
            return not self._send_queue and self._send_offset >= len(self._send_buffer)

    def _set_selector_events_mask(self, mode):
        events = {"r": selectors.EVENT_READ,
                  "w": selectors.EVENT_WRITE,
                  "rw": selectors.EVENT_READ | selectors.EVENT_WRITE}.get(mode)
        if events is None:
            raise ValueError("Invalid events mask mode {}.".format(mode))
        try:
            return self.selector.modify(self.socket, events, data=self)
        except KeyError:
            return self.selector.register(self.socket, events, data=self)

    def connect(self, client_selector, client_socket, client_addr):
        """Attaches a connected non-blocking socket (registering it with the
        selector if needed) and resends pending requests."""
        if self.socket is not None and self.socket is not client_socket:
            self._close()
        self.selector = client_selector
        self.socket = client_socket
        self.addr = client_addr
        self.generation += 1

        self._clear()

        self._set_selector_events_mask("r")
        if self._send_queue:
            self._set_selector_events_mask("rw")
        if self.resend_requests:
            self._resend_requests()

    def _clear(self):
        # Partly received data never survives (reference: kept it with
        # resume_queue on, gluing the old stream to the new one).
        self._recv_buffer = bytearray()
        self._incoming = None
        with self._send_lock:
            if not self.resume_queue:
                self._send_buffer = b""
                self._send_offset = 0
                self._send_queue.clear()
            elif self._send_offset < len(self._send_buffer):
                # A half-sent frame goes out again whole on the next socket
                # (reference: sent only its tail, corrupting the stream).
                self._send_queue.appendleft(self._send_buffer)
                self._send_buffer = b""
                self._send_offset = 0
            else:
                self._send_buffer = b""
                self._send_offset = 0

    def close(self):
        """Closes the connection on the next selector event (as the reference)."""
        with self._close_lock:
            self._should_close = True
        if self.selector is not None and self.socket is not None:
            self._set_selector_events_mask("w")
        if self.notifier is not None:
            self.notifier.notify()

    def _close(self):
        logger.info("Closing connection to %s", self.addr)
        try:
            if self.selector is not None and self.socket is not None:
                self.selector.unregister(self.socket)
        except (KeyError, ValueError) as error:
            logger.debug("%s: selector unregister: %s", self.addr, error)
        finally:
            self.selector = None
        try:
            if self.socket is not None:
                self.socket.close()
        except OSError as error:
            logger.error("%s: Error during socket closing: %s", self.addr, error)
        finally:
            self.socket = None
        with self._close_lock:
            self._should_close = False
        self._clear()

    def process_events(self, mask):
        with self._close_lock:
            close = self._should_close
        if close:
            self._close()
            return
        if mask & selectors.EVENT_READ:
            self.read()
        if mask & selectors.EVENT_WRITE and self.socket is not None:
            self.write()

    # -- receiving --------------------------------------------------------

    def read(self):
        self._read()
        self._process_recv_buffer()

    def _read(self):
        try:
            data = self.socket.recv(self.buffer_size)
        except (BlockingIOError, InterruptedError):
            return
        if not data:
            logger.warning("Connection to %s lost!", self.addr)
            raise PeerClosed("Peer closed.")
        self._recv_buffer += data

    def feed(self, data):
        """Processes bytes as if they had been read from the socket (tests)."""
        self._recv_buffer += data
        self._process_recv_buffer()

    def _process_recv_buffer(self):
        while self._recv_buffer:
            if self._incoming is None:
                self._incoming = MessageManager()
            message = self._incoming
            message.income_raw += self._recv_buffer
            self._recv_buffer = bytearray()
            message.process_message()
            if not message.complete:
                break
            # whatever follows the frame goes back for the next one
            self._recv_buffer = message.income_raw
            message.income_raw = bytearray()
            self._incoming = None
            self.process_received(message)

    def process_received(self, message):
        message_type = message.jsonheader["message-type"]
        logger.debug("Received message! Header: %s", message.jsonheader)
        self.current_message = message
        try:
            if message_type == "message":
                self._process_message(message)
            elif message_type == "response":
                self._process_response(message)
            elif message_type == "request":
                self._process_request(message)
            else:
                self.on_protocol_warning("Unknown message-type {!r}, frame dropped".format(message_type))
        finally:
            self.current_message = None

    def _process_message(self, message):
        header = message.jsonheader
        if "action" not in header:
            raise ProtocolError("Action message without 'action' header")
        if header["action"] == "filetransfer":
            if "filepath" not in header:
                raise ProtocolError("filetransfer message without 'filepath' header")
            if not isinstance(message.content, bytes):
                self.on_protocol_warning("filetransfer message with JSON content, dropped")
                return
            self._process_filetransfer(message.content, header["filepath"], "push")
        else:
            self._process_action(message)

    def _process_action(self, message):
        action = message.jsonheader["action"]
        content = message.content
        if not isinstance(content, dict):
            self.on_protocol_warning("Action {!r} content is not a JSON object, dropped".format(action))
            return
        args = content.get("args") or []
        kwargs = content.get("kwargs") or {}
        try:
            callback = self.messages_callbacks.get(action, None)
        except TypeError:
            callback = None
        if callback is None:
            self.on_unknown_action(action, message)
            return
        try:
            callback(self, *args, **kwargs)
        except Exception as error:
            self.on_action_error(action, error)

    def _process_request(self, message):
        content = message.content
        if not isinstance(content, dict) or "requested_value" not in content \
                or "request_id" not in content:
            raise ProtocolError("Malformed request content: {!r}".format(content)[:300])
        requested_value = content["requested_value"]
        request_id = content["request_id"]
        # reference: `*None` fails, so a null args (its own resend) gets no reply
        args = content.get("args") or []
        kwargs = content.get("kwargs") or {}
        self.on_request_received(message, requested_value, request_id, args, kwargs)

        filetransfer = requested_value == "filetransfer"
        try:
            if filetransfer:
                value = self._read_file(kwargs["filepath"])
            else:
                callback = self.requests_callbacks.get(requested_value, None)
                if callback is None:
                    self.on_unknown_request(requested_value, request_id, message)
                    return
                self.current_request = Namespace(requested_value=requested_value,
                                                 request_id=request_id,
                                                 generation=self.generation)
                try:
                    value = callback(self, *args, **kwargs)
                finally:
                    self.current_request = None
            if value is DEFER:
                return
            frame = MessageManager.create_response(requested_value, request_id, value, filetransfer)
        except Exception as error:  # reference: log, and send nothing back
            self.on_request_error(requested_value, request_id, error)
            return
        self._send(frame)

    def _process_response(self, message):
        header = message.jsonheader
        request_id = header.get("request_id")
        requested_value = header.get("requested_value")
        with self._request_lock:
            try:
                request = self._request_queue.get(request_id, None)
            except TypeError:  # unhashable id
                request = None
            # reference: pops before comparing, losing the pending request
            # when only the requested value differs.
            if request is not None and request.requested_value == requested_value:
                del self._request_queue[request_id]
            else:
                request = None
        if request is None:
            self.on_unexpected_response(message)
            return

        if requested_value == "filetransfer":
            if isinstance(message.content, bytes):
                value = True
                self._process_filetransfer(message.content, request.callback_kwargs["filepath"],
                                           "response")
            else:
                self.on_protocol_warning("File response with JSON content: {!r}".format(
                    message.content)[:300])
                self.last_filetransfer_ok = False
                value = False
        else:
            if not isinstance(message.content, dict) or "value" not in message.content:
                self.on_protocol_warning("Response without value: {!r}".format(message.content)[:300])
                value = None
            else:
                value = message.content["value"]
        if request.callback is not None:
            try:
                request.callback(self, value, *request.callback_args, **request.callback_kwargs)
            except Exception as error:
                logger.error("Error during response %s processing: %s", request, error)
                self.on_protocol_warning("Response callback failed: {!r}".format(error))
        else:
            logger.info("No callback were registered for response: %s", request)

    @staticmethod
    def _read_file(filepath):
        with open(filepath, mode="rb") as f:
            return f.read()

    def _process_filetransfer(self, content, filepath, origin):
        try:
            with open(filepath, "wb") as f:
                f.write(content)
        except (OSError, TypeError, ValueError) as error:
            logger.error("File %s can not be written due error: %s", filepath, error)
            ok = False
        else:
            logger.info("File %s successfully received", filepath)
            ok = True
            if self.whoami == "pi":
                try:
                    import pwd
                    entry = pwd.getpwnam("pi")
                    os.chown(filepath, entry.pw_uid, entry.pw_gid)
                except (ImportError, KeyError, OSError) as error:
                    logger.warning("chown pi:pi %s failed: %s", filepath, error)
        self.last_filetransfer_ok = ok
        self.on_file_written(filepath, content, ok, origin)
        return ok

    # -- hooks (override in subclasses) -----------------------------------

    def on_request_received(self, message, requested_value, request_id, args, kwargs):
        pass

    def on_unknown_action(self, action, message):
        logger.warning("Action %s does not exist!", action)

    def on_action_error(self, action, error):
        logger.error("Error during action %s execution: %r", action, error)

    def on_unknown_request(self, requested_value, request_id, message):
        logger.warning("Request %s does not exist!", requested_value)

    def on_request_error(self, requested_value, request_id, error):
        logger.error("Error during request %s processing: %r", requested_value, error)

    def on_unexpected_response(self, message):
        logger.warning("Unexpected response! %s", message.jsonheader)

    def on_file_written(self, filepath, content, ok, origin):
        pass

    def on_protocol_warning(self, text):
        logger.warning("%s: %s", self.addr, text)

    # -- sending ----------------------------------------------------------

    def write(self):
        with self._send_lock:
            if self._send_offset >= len(self._send_buffer) and self._send_queue:
                self._send_buffer = self._send_queue.popleft()
                self._send_offset = 0
            pending = self._send_offset < len(self._send_buffer)
        if pending:
            self._write()
        else:
            self._set_selector_events_mask("r")  # done writing

    def _write(self):
        chunk = self._send_buffer[self._send_offset:self._send_offset + self.buffer_size]
        try:
            sent = self.socket.send(chunk)
        except (BlockingIOError, InterruptedError):
            return
        except Exception as error:
            logger.warning("Attempt to send to %s failed due error: %s", self.addr, error)
            raise
        self._send_offset += sent

    def _send(self, data):
        with self._send_lock:
            self._send_queue.append(data)
        if self.selector is None or self.socket is None:
            return  # not connected: stays queued (see resume_queue)
        try:
            key = self.selector.get_key(self.socket)
        except (KeyError, ValueError):
            return
        if key.events == selectors.EVENT_READ:
            self._set_selector_events_mask("rw")
            if self.notifier is not None:
                self.notifier.notify()

    def send_raw(self, data):
        """Queues arbitrary bytes (tests)."""
        self._send(bytes(data))

    def _next_request_id(self):
        if self.sequential_ids:
            self._request_counter += 1
            return str(self._request_counter).zfill(4)
        return str(random.randint(0, 9999)).zfill(4)  # reference: random, may collide

    def get_response(self, requested_value, callback,
                     request_args=(), request_kwargs=None,
                     callback_args=(), callback_kwargs=None,
                     request_id=None, additional_headers=None):
        """Sends a request; ``callback(connection, value, *callback_args,
        **callback_kwargs)`` runs when the response arrives.  Returns the id
        (``request_id`` forces one; a colliding id replaces the older pending
        request, as in the reference)."""
        if request_kwargs is None:
            request_kwargs = {}
        if callback_kwargs is None:
            callback_kwargs = {}
        if request_id is None:
            request_id = self._next_request_id()
        frame = MessageManager.create_request(requested_value, request_id, request_args,
                                              request_kwargs, additional_headers)
        with self._request_lock:
            self._request_queue[request_id] = PendingRequest(
                requested_value=requested_value,
                value=None,
                callback=callback,
                callback_args=callback_args,
                callback_kwargs=callback_kwargs,
                request_args=request_args,
                request_kwargs=request_kwargs,
                additional_headers=additional_headers,
                resend=True,
            )
        self._send(frame)
        return request_id

    def get_file(self, client_filepath, filepath=None, callback=None,
                 callback_args=(), callback_kwargs=None):
        """Requests the peer's file ``client_filepath``; writes it to ``filepath``
        (default: its last path component).  The callback gets value True and
        ``filepath=`` among its keyword arguments (as in the reference)."""
        if callback_kwargs is None:
            callback_kwargs = {}
        if filepath is None:
            filepath = os.path.split(client_filepath)[1]
        callback_kwargs.update({"filepath": filepath})
        return self.get_response("filetransfer", callback,
                                 request_kwargs={"filepath": client_filepath},
                                 callback_args=callback_args, callback_kwargs=callback_kwargs)

    def _resend_requests(self):
        with self._request_lock:
            items = list(self._request_queue.items())
        for request_id, request in items:
            if not request.resend:
                continue
            if self.quirk_resend_null_args:
                # reference: create_request(value, id, kwargs.update(...)) -> args None
                request.request_kwargs.update(resend=request.resend)
                frame = MessageManager.create_request(request.requested_value, request_id, None)
            else:
                frame = MessageManager.create_request(request.requested_value, request_id,
                                                      request.request_args,
                                                      request.request_kwargs,
                                                      request.additional_headers)
            request.resend = False
            self._send(frame)

    def send_message(self, action, args=(), kwargs=None, additional_headers=None):
        self._send(MessageManager.create_action_message(action, args, kwargs, additional_headers))

    def send_response(self, requested_value, request_id, value, filetransfer=False):
        self._send(MessageManager.create_response(requested_value, request_id, value, filetransfer))

    _send_response = send_response

    def send_file(self, filepath, dest_filepath):
        """Sends the local file ``filepath`` to be written at ``dest_filepath`` on
        the peer.  Returns False (and logs) when the file can not be read."""
        try:
            with open(filepath, "rb") as f:
                data = f.read()
        except OSError as error:
            logger.warning("File can not be opened due error: %s", error)
            return False
        logger.info("Sending file %s to %s (as: %s)", filepath, self.addr, dest_filepath)
        self._send(MessageManager.create_file_message(data, dest_filepath))
        return True
