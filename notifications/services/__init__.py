"""The notifications services, one module per job; import the module you need, nothing is re-exported.

- `outbox`: `publish()` records an event in the transaction that makes the change.
- `delivery`: the fan-out of an event into deliveries (IPN, webhooks, emails), one attempt of a
  delivery, its retries, and the dashboard's "resend".
- `sweeper`: the beat task that re-queues what a lost message left behind.
- `endpoints`: webhook endpoints and signing secrets (create, rotate, enable, disable), and the
  health of an endpoint whose attempts keep failing.
- `emails`: email subscriptions, the event emails, the daily summary, the admins' alerts.

Life of an event:
1. `outbox.publish()` records it inside the transaction that makes the change; after the commit,
   `notifications.dispatch_event` is queued (if the broker is down, the sweeper queues it later).
2. `delivery.dispatch()` notifies the internal subscribers and creates, once, one Delivery per
   target: the IPN (`event.ipn_url`), every enabled webhook endpoint of the merchant and mode
   subscribed to the type, every team member subscribed to the matching email. Then it queues
   `notifications.deliver` for each.
3. `delivery.deliver()` claims the delivery (compare-and-set: one attempt at a time, never after a
   success), makes one attempt, records it, and schedules the next one on failure (RETRY_SCHEDULE,
   with jitter) until the delivery succeeds or fails for good.
4. `sweeper.sweep()` (beat) re-queues events never dispatched and deliveries that are due but whose
   task was lost: delivery is at least once, whatever happens to the broker or a worker.

Tasks are queued by name through `payplug.queue`, so no service imports `notifications.tasks`.
"""
