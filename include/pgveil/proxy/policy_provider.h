// PolicyProvider: tells the proxy which masking policy a login gets.
//
// Called from worker threads; implementations are thread-safe. ForLogin may block for a
// catalog round trip (it is called once per session, after the server's
// AuthenticationOk, and again when generation() moves).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pgveil/policy/policy.h"
#include "pgveil/status.h"

namespace pgveil::mask {
class Redactor;
}

namespace pgveil::proxy {

class PolicyProvider {
 public:
  virtual ~PolicyProvider() = default;

  // The policy for `login` (verified by the server). An error ends the session: a login
  // whose policy cannot be determined is never served (fail closed).
  virtual StatusOr<std::shared_ptr<const policy::Policy>> ForLogin(const std::string& login) = 0;

  // The redactor that scrubs error and notice text for masked sessions (may be null).
  virtual std::shared_ptr<const mask::Redactor> Scrubber() const = 0;

  // A masked session met a relation its policy's catalog snapshot does not know.
  virtual void OnUnknownRelations() = 0;

  // Moves whenever the rules, the keys or the catalog snapshot change; sessions then ask
  // ForLogin again before their next statement.
  virtual uint64_t generation() const = 0;
};

}  // namespace pgveil::proxy
