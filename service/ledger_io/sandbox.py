"""Reading an uploaded file in a child process under resource limits, so that no file takes the caller down.

python-calamine is Rust: a hostile or damaged workbook does not raise, it aborts the process (a
dense range of a sheet whose only cell is XFD190000 asks for about 99 GB; a mutated .xls grows
to gigabytes in the compound-file reader). Run in a web worker, the scheduler or the CLI, that
would kill the worker with every request and job it holds, and leave the job "running" for the
next process to take over and die on in turn.

:func:`read_in_child` runs a reading step in a child process instead: for a ledger, opening the
workbook and materialising its sheet (:func:`~service.ledger_io.importer.open_ledger_sheet`); the
rows come back as plain cells, and the Python that interprets them runs in the caller, which saves
sending the larger parsed rows across. The child comes
from a fork server (the web process has threads, which plain ``fork`` does not survive safely;
``spawn`` would start Python afresh for every file): the server imports the reading modules once,
and each read costs a fork. The child

1. lowers its own limits first: address space (``RLIMIT_AS``), CPU time (``RLIMIT_CPU``), and no
   core dumps;
2. reads the file, sending ``progress(stage, done, total)`` calls over its pipe;
3. pickles the result and sends it (refusing, like a child that dies, one larger than
   ``Limits.max_output_bytes``), or sends the :class:`~service.errors.DomainError` that refused
   the file, which the parent raises again as it was (class, message, field errors, attributes).

The parent waits at most ``Limits.max_wall_seconds`` and kills the child after that. A child that
dies (killed by a signal, out of memory or CPU time, its result too large) becomes the
:class:`~service.errors.Invalid` :data:`TOO_LARGE_OR_DAMAGED`. An unexpected exception in the
child (a bug) becomes :class:`ReadFailed` in the parent, carrying the child's traceback.

The messages from the child are pickles: the child runs our code on the file, and the limits are
there against running out of resources, not against code injected into a process that parses it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle  # nosec B403 # only between this process and the child it forked; see _message
import resource
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from service.errors import DomainError
from service.i18n import N_
from service.ledger_io.reader import DEFAULT_LIMITS, Limits, read_bytes, refuse

log = logging.getLogger(__name__)

T = TypeVar("T")

TOO_LARGE_OR_DAMAGED = N_("The file is too large or damaged and cannot be read.")
#: What the fork server imports once, so that a child starts with the reading code loaded.
PRELOAD = ["service.ledger_io.importer"]
#: The largest message other than the result (progress, an error with its field messages).
_MESSAGE_BYTES = 1024 * 1024
#: The child's exit status when Python ran out of memory (it has no memory left to say so).
_OUT_OF_MEMORY = 3

_context: multiprocessing.context.BaseContext | None = None
_context_lock = threading.Lock()


class ReadFailed(RuntimeError):
    """The reading step raised an unexpected exception in the child; the message is its traceback."""


def forkserver() -> multiprocessing.context.BaseContext:
    """Return the process's fork server context (shared with the background exports)."""
    return _forkserver()


def _forkserver() -> multiprocessing.context.BaseContext:
    """Return the fork server context, set to preload the reading modules when it starts."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _context = context
    return _context


def read_in_child(
    read: Callable[..., T],
    source: Any,
    filename: str,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[str, int, int], None] | None = None,
    **options: Any,
) -> T:
    """Return ``read(data, filename, limits=limits, progress=…, **options)`` computed in a child process.

    ``read`` must be a module-level function (the child finds it by name). ``source`` is read here
    (bytes, a path or a binary stream) and refused if empty or larger than ``limits.max_bytes``.
    """
    data = read_bytes(source, limits)
    context = _forkserver()
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(
        target=_child,
        args=(sending, read, data, filename, limits, progress is not None, options),
        name=f"ledger reader ({filename})",
        daemon=True,
    )
    started = time.monotonic()
    try:
        child.start()
        sending.close()
        del data
        return _receive(receiving, child, limits, progress, started + limits.max_wall_seconds)
    finally:
        receiving.close()
        if child.is_alive():
            child.kill()
        if child.pid is not None:
            child.join()
        child.close()


def _receive(
    connection: Connection,
    child: multiprocessing.process.BaseProcess,
    limits: Limits,
    progress: Callable[[str, int, int], None] | None,
    deadline: float,
) -> Any:
    """Handle the child's messages until its result or its error; raise if it dies or runs late."""
    while True:
        message = _message(connection, child, deadline, _MESSAGE_BYTES)
        kind = message[0]
        if kind == "progress":
            if progress is not None:
                progress(*message[1:])
        elif kind == "result":
            result = _message(connection, child, deadline, limits.max_output_bytes, raw=True)
            return pickle.loads(result)  # nosec B301 # from our own forked child; see _message
        elif kind == "refused":
            _cls, args, state = message[1:]
            error = _cls.__new__(_cls)
            error.args = args
            error.__dict__.update(state)
            raise error
        elif kind == "too large":
            log.warning("%s: result of %s bytes over the limit", child.name, message[1])
            raise _dead()
        else:
            raise ReadFailed(f"reading {child.name} failed in its process:\n{message[1]}")


def _message(
    connection: Connection,
    child: multiprocessing.process.BaseProcess,
    deadline: float,
    maxlength: int,
    raw: bool = False,
) -> Any:
    """Return the child's next message (unpickled unless ``raw``); raise if it dies first or runs late."""
    if not connection.poll(max(deadline - time.monotonic(), 0)):
        log.warning("%s: no answer in time; killed", child.name)
        raise _dead()
    try:
        payload = connection.recv_bytes(maxlength)
    except (EOFError, OSError):  # OSError: longer than maxlength
        child.join(5)
        log.warning("%s: died (exit status %s)", child.name, child.exitcode)
        raise _dead() from None
    # The bytes come from the child this process forked, running our code as our user: no trust
    # boundary is crossed (the child guards against exhausting resources, not against code).
    return payload if raw else pickle.loads(payload)  # nosec B301 # our own forked child's bytes


def _dead() -> DomainError:
    return refuse(TOO_LARGE_OR_DAMAGED)


# The child --------------------------------------------------------------------------------------


def _child(
    connection: Connection,
    read: Callable[..., Any],
    data: bytes,
    filename: str,
    limits: Limits,
    wants_progress: bool,
    options: dict,
) -> None:
    """Lower this process's limits, read the file and send back the result or the error."""
    _limit_resources(limits)
    # A Rust abort prints its message; a backtrace of the reader's frames would only bury it.
    os.environ["RUST_BACKTRACE"] = "0"

    def send(*message: Any) -> None:
        connection.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def progress(stage: str, done: int, total: int) -> None:
        send("progress", stage, done, total)

    try:
        result = read(data, filename, limits=limits, progress=progress if wants_progress else None, **options)
        del data
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        del result
        if len(payload) > limits.max_output_bytes:
            send("too large", len(payload))
        else:
            send("result")
            connection.send_bytes(payload)
    except DomainError as error:
        send("refused", type(error), error.args, error.__dict__)
    except MemoryError:
        os._exit(_OUT_OF_MEMORY)
    except Exception:
        send("failed", traceback.format_exc())
    finally:
        connection.close()


def _limit_resources(limits: Limits) -> None:
    """Cap this process's address space and CPU time, and let it leave no core dump when it dies."""
    _lower(resource.RLIMIT_CORE, 0, 0)
    _lower(resource.RLIMIT_AS, limits.max_memory_bytes, limits.max_memory_bytes)
    # Past the soft limit the kernel sends SIGXCPU (which ends the process), past the hard SIGKILL.
    _lower(resource.RLIMIT_CPU, limits.max_cpu_seconds, limits.max_cpu_seconds + 1)


def _lower(which: int, soft: int, hard: int) -> None:
    _, current = resource.getrlimit(which)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(which, (soft, hard))
