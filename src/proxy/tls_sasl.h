// Channel binding through a TLS-terminating proxy: the server's SCRAM-SHA-256-PLUS
// binds to the server's certificate, which the client never sees (it sees pgveil's).
// pgveil removes the "-PLUS" mechanisms from the server's offer so that clients pick a
// mechanism that can work, and libpq's channel_binding=require fails with its own clear
// error instead of a confusing exchange. Internal to the proxy module; no I/O.
#pragma once

#include <cstddef>

#include "pgveil/status.h"

namespace pgveil::proxy {

struct SaslOfferRewrite {
  size_t total = 0;   // length of the rewritten message, type byte included
  int removed = 0;    // mechanisms removed
  int remaining = 0;  // mechanisms left in the offer
};

// `message` points at a whole AuthenticationSASL message ('R', Int32 length, Int32 10,
// then mechanism names, each NUL-terminated, then an empty name) of `total` bytes.
// Rewrites it in place without the mechanisms whose names end in "-PLUS" (the length
// word too); the bytes past the new total are left as they were. A malformed offer is a
// protocol error and leaves the message untouched.
StatusOr<SaslOfferRewrite> RemoveChannelBindingMechanisms(char* message, size_t total);

}  // namespace pgveil::proxy
