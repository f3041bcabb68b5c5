// KeyRing: the named 256-bit keys that hash and pseudonym rules refer to.
//
// Key file format (JSON, comments allowed):
//   { "keys": { "crm": "<64 hex digits>", "other": "..." } }
// LoadFile refuses a file that is readable or writable by group or others. A KeyRing is
// immutable and shared as std::shared_ptr<const KeyRing>. Key material never appears in
// errors, logs or ToString() output; only key names do.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pgveil/mask/key.h"
#include "pgveil/rules/diagnostic.h"
#include "pgveil/status.h"

namespace pgveil::rules {

class KeyRing {
 public:
  // Reads and validates a key file (permissions, syntax, every key 256 bits). On failure
  // appends diagnostics and returns nullptr.
  static std::shared_ptr<const KeyRing> LoadFile(const std::string& path,
                                                 std::vector<Diagnostic>* errors);
  // Parses key file content without the permission check (`file` names it in errors).
  static std::shared_ptr<const KeyRing> Parse(std::string_view content, const std::string& file,
                                              std::vector<Diagnostic>* errors);

  // The key of that name, or nullptr.
  const mask::Key* Find(std::string_view name) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, mask::Key, std::less<>> keys_;
};

// Writes a new key file at `path` with fresh random keys (OS entropy) under `names`,
// created with mode 0600. Refuses to replace an existing file unless `overwrite`.
Status WriteNewKeyFile(const std::string& path, const std::vector<std::string>& names,
                       bool overwrite);

}  // namespace pgveil::rules
