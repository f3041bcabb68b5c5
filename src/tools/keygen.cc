// pgveil keygen: a new key file, mode 0600.
#include <ostream>

#include "pgveil/rules/keys.h"
#include "pgveil/tools/check.h"

namespace pgveil::tools {

int RunKeygen(const KeygenOptions& options, std::ostream& out, std::ostream& err) {
  if (options.out_file.empty()) {
    err << "pgveil keygen: give the file to write with --out\n";
    return 2;
  }
  std::vector<std::string> names =
      options.names.empty() ? std::vector<std::string>{"default"} : options.names;
  Status s = rules::WriteNewKeyFile(options.out_file, names, options.force);
  if (!s.ok()) {
    err << "pgveil keygen: " << s.message() << "\n";
    return 1;
  }
  out << "wrote " << names.size() << (names.size() == 1 ? " key" : " keys") << " to "
      << options.out_file << " (mode 0600)\n";
  return 0;
}

}  // namespace pgveil::tools
