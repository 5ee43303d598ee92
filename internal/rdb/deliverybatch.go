package rdb

import "time"

// maxDeliveryBatch bounds the invites of one begin or finish script call.
const maxDeliveryBatch = 64

// deliveryLinger is how long a batch of begins or finishes waits for company:
// 2 ms are nothing next to a homeserver's answer, and let the calls of
// concurrent deliveries share a round trip. Measured on P1 (concurrency 50,
// an instant simulator): 0 ms gave batches of ~1.2 and 32 Redis commands
// per invite, 1 ms 22, 2 ms 21, with Redis CPU per invite falling from
// 160 to 105 µs; the throughput ratio to the naive handler rose too.
const deliveryLinger = 2 * time.Millisecond
