#include "pgveil/rules/keys.h"

#include <crypto++/misc.h>
#include <crypto++/osrng.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rules/params.h"

namespace pgveil::rules {

namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::shared_ptr<const KeyRing> KeyRing::LoadFile(const std::string& path,
                                                 std::vector<Diagnostic>* errors) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    errors->push_back({path, "", std::string("cannot read key file: ") + std::strerror(errno)});
    return nullptr;
  }
  if ((st.st_mode & 077) != 0) {
    errors->push_back(
        {path, "", "key file is accessible by group or others; run `chmod 600` on it"});
    return nullptr;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors->push_back({path, "", "cannot read key file"});
    return nullptr;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string content = ss.str();
  auto ring = Parse(content, path, errors);
  CryptoPP::SecureWipeArray(content.data(), content.size());
  return ring;
}

std::shared_ptr<const KeyRing> KeyRing::Parse(std::string_view content, const std::string& file,
                                              std::vector<Diagnostic>* errors) {
  nlohmann::json doc = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false,
                                             /*ignore_comments=*/true);
  // The parser's own messages quote the input, which may be key material: say less.
  if (doc.is_discarded()) {
    errors->push_back({file, "", "not valid JSON"});
    return nullptr;
  }
  const size_t before = errors->size();
  if (!doc.is_object()) {
    errors->push_back({file, "", "expected an object with a \"keys\" member"});
    return nullptr;
  }
  for (const auto& [k, v] : doc.items()) {
    if (k != "keys")
      errors->push_back({file, "/" + PointerToken(k), "unknown member" + DidYouMean(k, {"keys"})});
  }
  auto ring = std::make_shared<KeyRing>();
  auto it = doc.find("keys");
  if (it == doc.end() || !it->is_object() || it->empty()) {
    errors->push_back({file, "/keys", "expected an object of named keys"});
    return nullptr;
  }
  for (const auto& [name, value] : it->items()) {
    const std::string ptr = "/keys/" + PointerToken(name);
    if (name.empty()) {
      errors->push_back({file, ptr, "key names must not be empty"});
      continue;
    }
    std::array<uint8_t, 32> bytes{};
    bool ok = value.is_string() && value.get_ref<const std::string&>().size() == 64;
    if (ok) {
      const std::string& hex = value.get_ref<const std::string&>();
      for (size_t i = 0; i < 32 && ok; ++i) {
        int hi = Hex(hex[2 * i]), lo = Hex(hex[2 * i + 1]);
        ok = hi >= 0 && lo >= 0;
        bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
      }
    }
    if (!ok) {
      errors->push_back({file, ptr, "a key must be a string of 64 hex digits (256 bits)"});
    } else {
      ring->keys_.emplace(name, mask::Key(bytes));
    }
    CryptoPP::SecureWipeArray(bytes.data(), bytes.size());
  }
  if (errors->size() != before) return nullptr;
  return ring;
}

const mask::Key* KeyRing::Find(std::string_view name) const {
  auto it = keys_.find(name);
  return it == keys_.end() ? nullptr : &it->second;
}

std::vector<std::string> KeyRing::Names() const {
  std::vector<std::string> names;
  for (const auto& [n, k] : keys_) names.push_back(n);
  return names;
}

Status WriteNewKeyFile(const std::string& path, const std::vector<std::string>& names,
                       bool overwrite) {
  if (names.empty()) return InvalidArgument("at least one key name is needed");
  nlohmann::json keys = nlohmann::json::object();
  CryptoPP::AutoSeededRandomPool rng;
  for (const auto& name : names) {
    if (name.empty()) return InvalidArgument("key names must not be empty");
    if (keys.contains(name)) return InvalidArgument("duplicate key name \"" + name + "\"");
    uint8_t bytes[32];
    rng.GenerateBlock(bytes, sizeof(bytes));
    std::string hex;
    static constexpr char kHex[] = "0123456789abcdef";
    for (uint8_t b : bytes) {
      hex.push_back(kHex[b >> 4]);
      hex.push_back(kHex[b & 15]);
    }
    CryptoPP::SecureWipeArray(bytes, sizeof(bytes));
    keys[name] = hex;
    CryptoPP::SecureWipeArray(hex.data(), hex.size());
  }
  std::string content = nlohmann::json{{"keys", keys}}.dump(2) + "\n";
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (overwrite ? O_TRUNC : O_EXCL);
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) {
    CryptoPP::SecureWipeArray(content.data(), content.size());
    return Unavailable(path + ": " + std::strerror(errno));
  }
  // An existing file keeps its mode on O_TRUNC: force 0600 before writing any key.
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t off = 0;
  while (ok && off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n <= 0) {
      ok = false;
      break;
    }
    off += static_cast<size_t>(n);
  }
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  CryptoPP::SecureWipeArray(content.data(), content.size());
  if (!ok) return Unavailable(path + ": write failed");
  return Status::Ok();
}

}  // namespace pgveil::rules
