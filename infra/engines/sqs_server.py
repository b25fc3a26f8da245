"""moto_server's SQS, with three fixes that keep its calls from slowing with a
queue's depth; started by infra/engines instead of the moto_server script.

moto 5 keeps a queue's messages in one list, and three of its code paths walk
the whole list on every message:

1. send_message reads queue.attributes for ContentBasedDeduplication, and
   receive_message reads MessageRetentionPeriod the same way for every message
   it returns: queue.attributes computes the three ApproximateNumberOfMessages*
   counts each time, a walk of the list each;
2. each walk asks every message whether it is visible and delayed, and each
   question builds a timezone-aware datetime to read the clock;
3. delete_message walks the list twice (one `any`, then a rebuilt copy).

With 10 000 messages in a queue a 10-message SendMessageBatch took 2 s and the
queue took minutes to drain: the webhook burst of `make bench` measured the
emulator, not ModuPay. Real SQS has no such cost. The fixes change no answer:

1. while send_message or the retention check runs, the three counts (which
   neither reads) are not computed; GetQueueAttributes still computes them;
2. the clock is read with time.time() when no datetime is given (the same
   instant, as a float, without building datetimes);
3. delete_message looks for the message that had the receipt handle in one
   pass that stops at it (consumers delete old messages, at the list's head)
   and removes it, under the queue's lock; an unknown handle is still ReceiptHandleIsInvalid,
   a handle already deleted still succeeds.

The fixes touch moto internals: they are applied only when those internals
have the expected shape (checked below), otherwise moto runs unchanged and
says so on stderr (the engine's log). Arguments are moto_server's.
"""

import sys
import threading
import time

PATCHED = "modupay: moto SQS patched (counts on demand, fast clock, one-pass delete)"


def _patch():
    import moto
    import moto.sqs.models as m
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    counts = (
        "approximate_number_of_messages",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
    )
    needed = [
        (m, "unix_time"),
        (m, "unix_time_millis"),
        (m.SQSBackend, "send_message"),
        (m.SQSBackend, "is_message_valid_based_on_retention_period"),
        (m.Queue, "delete_message"),
        (m.Message, "had_receipt_handle"),
        (m.Message, "all_receipt_handles"),
    ] + [(m.Queue, name) for name in counts]
    missing = [f"{getattr(o, '__name__', o)}.{a}" for o, a in needed if not hasattr(o, a)]
    if not moto.__version__.startswith("5.") or missing:
        return f"modupay: moto {moto.__version__} runs unpatched (missing: {', '.join(missing) or 'none'}; expected moto 5)"

    # 2. The clock.
    unix_time, unix_time_millis = m.unix_time, m.unix_time_millis
    m.unix_time = lambda dt=None: time.time() if dt is None else unix_time(dt)
    m.unix_time_millis = lambda dt=None: time.time() * 1000.0 if dt is None else unix_time_millis(dt)

    # 1. No counts for the callers that do not read them.
    local = threading.local()

    def without_counts(fn):
        def wrapper(*args, **kwargs):
            outer = getattr(local, "skip", False)
            local.skip = True
            try:
                return fn(*args, **kwargs)
            finally:
                local.skip = outer

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    for name in counts:
        compute = getattr(m.Queue, name).fget

        def count(self, compute=compute):
            # The value is never read where skip is set: 0 stands in for it.
            return 0 if getattr(local, "skip", False) else compute(self)

        setattr(m.Queue, name, property(count))
    m.SQSBackend.send_message = without_counts(m.SQSBackend.send_message)
    m.SQSBackend.is_message_valid_based_on_retention_period = without_counts(
        m.SQSBackend.is_message_valid_based_on_retention_period
    )

    # 3. One-pass delete.
    def delete_message(self, receipt_handle):
        if receipt_handle in self.deleted_messages:
            return  # already deleted: moto (and SQS) accept it again
        with self._messages_lock:
            for message in list(self._messages):
                if message.had_receipt_handle(receipt_handle):
                    self.pending_messages.discard(message)
                    self.deleted_messages.update(message.all_receipt_handles)
                    # remove, not del [i]: receive_message moves messages to
                    # a dead-letter queue without the lock.
                    try:
                        self._messages.remove(message)
                    except ValueError:
                        pass  # moved to the dead-letter queue meanwhile
                    return
        raise ReceiptHandleIsInvalid()

    m.Queue.delete_message = delete_message
    return PATCHED


def main():
    print(_patch(), file=sys.stderr, flush=True)
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
