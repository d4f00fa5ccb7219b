"""Early-return notifications (CONTRACT section 6): outbox -> SQS -> signed HTTP POST.

    the return's write of the loan (RETURNED, carrying its event, services.lending.return_early)
      -> outbox.enqueue_now right after it (best effort, keeps latency low)
      -> outbox.sweep on a timer (OutboxSweeperFunction): whatever the first step missed (a crash)
      -> CallbackQueue -> delivery.handle_record (CallbackDeliveryFunction, partial batch failures)
      -> the receiver; failures come back with growing delays, the last one lands in the DLQ
      -> redrive (`make redrive`) sends parked events back.

Modules: events (the message), signing (HMAC), guard (SSRF), sender (the POST), queues (SQS),
outbox (enqueue, sweep), delivery (one try), redrive (the command).
"""
