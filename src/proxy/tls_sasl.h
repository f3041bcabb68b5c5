// Channel binding through a TLS-terminating proxy: the server's SCRAM-SHA-256-PLUS
// binds to the server's certificate, which the client does not see unless pgveil
// presents the very same certificate. Otherwise pgveil removes the "-PLUS" mechanisms
// from the server's offer, so that libpq's channel_binding=require fails at once with
// its own clear error instead of a confusing exchange. Internal to the proxy module;
// no I/O. See docs/tls.md for the combinations.
#pragma once

#include <cstddef>
#include <string_view>

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

// The GS2 channel-binding flag of a SASLInitialResponse body (mechanism name, Int32
// length, SCRAM client-first-message): 'n' (client does not support channel binding),
// 'y' (supports it but thinks the server does not) or 'p' (uses it). A server that
// supports channel binding refuses 'y' as a downgrade attack, and pgveil cannot rewrite
// it (the flag is covered by the client's proof), so the session explains and ends.
StatusOr<char> SaslGs2Flag(std::string_view body);

}  // namespace pgveil::proxy
