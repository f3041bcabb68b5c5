// Rule parameters: JSON → the option structs of include/pgveil/mask/transforms.h.
#include "rules/params.h"

#include <algorithm>
#include <cctype>

#include "pgveil/mask/redact.h"

namespace pgveil::rules {

using nlohmann::json;

std::string PointerToken(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

const std::vector<std::string>& TransformNames() {
  static const std::vector<std::string> kNames = {"show",  "null",      "constant", "partial",
                                                  "hash",  "pseudonym", "redact",   "bucket",
                                                  "round", "truncate",  "age_band", "map"};
  return kNames;
}

namespace {

// "UTC", "Z", "+HH", "+HH:MM" or "+HH:MM:SS" (or "-..."), below 16 hours: seconds east.
bool ParseUtcOffset(const std::string& s, int32_t* out) {
  if (s == "UTC" || s == "utc" || s == "Z") {
    *out = 0;
    return true;
  }
  if ((s.size() != 3 && s.size() != 6 && s.size() != 9) || (s[0] != '+' && s[0] != '-')) {
    return false;
  }
  int32_t secs = 0;
  static constexpr int32_t kUnit[] = {3600, 60, 1};
  for (size_t k = 1, part = 0; k < s.size(); k += 3, ++part) {
    if ((k > 1 && s[k - 1] != ':') || !std::isdigit(static_cast<unsigned char>(s[k])) ||
        !std::isdigit(static_cast<unsigned char>(s[k + 1]))) {
      return false;
    }
    const int32_t v = (s[k] - '0') * 10 + (s[k + 1] - '0');
    if (v > (part == 0 ? 15 : 59)) return false;
    secs += v * kUnit[part];
  }
  *out = s[0] == '-' ? -secs : secs;
  return true;
}

// Reads parameters out of a rule object, reporting wrong types and unknown names.
class Params {
 public:
  Params(const json& obj, const std::string& file, const std::string& ptr, BuildContext* ctx)
      : obj_(obj), file_(file), ptr_(ptr), ctx_(ctx) {}

  void Error(const std::string& name, const std::string& msg) {
    ctx_->errors->push_back({file_, ptr_ + (name.empty() ? "" : "/" + name), msg});
    ok_ = false;
  }

  const json* Get(const std::string& name) {
    known_.push_back(name);
    if (!obj_.is_object()) return nullptr;
    auto it = obj_.find(name);
    return it == obj_.end() ? nullptr : &*it;
  }

  std::optional<int64_t> Int(const std::string& name, bool required, int64_t min, int64_t max) {
    const json* v = Get(name);
    if (!v) {
      if (required) Error("", "missing parameter \"" + name + "\"");
      return std::nullopt;
    }
    if (!v->is_number_integer()) {
      Error(name, "expected an integer");
      return std::nullopt;
    }
    int64_t i =
        v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX ? INT64_MAX : v->get<int64_t>();
    if (i < min || i > max) {
      Error(name, "must be in " + std::to_string(min) + ".." + std::to_string(max));
      return std::nullopt;
    }
    return i;
  }

  std::optional<std::string> Str(const std::string& name, bool required) {
    const json* v = Get(name);
    if (!v) {
      if (required) Error("", "missing parameter \"" + name + "\"");
      return std::nullopt;
    }
    if (!v->is_string()) {
      Error(name, "expected a string");
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  std::optional<bool> Bool(const std::string& name) {
    const json* v = Get(name);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) {
      Error(name, "expected true or false");
      return std::nullopt;
    }
    return v->get<bool>();
  }

  std::optional<double> Number(const std::string& name, bool required) {
    const json* v = Get(name);
    if (!v) {
      if (required) Error("", "missing parameter \"" + name + "\"");
      return std::nullopt;
    }
    if (!v->is_number()) {
      Error(name, "expected a number");
      return std::nullopt;
    }
    return v->get<double>();
  }

  // Reports members that no accessor asked for.
  void Finish(const std::string& transform) {
    if (!obj_.is_object()) return;
    for (const auto& [k, v] : obj_.items()) {
      if (k == "transform" || k == "filter" || k == "description") continue;
      if (std::find(known_.begin(), known_.end(), k) == known_.end()) {
        Error(PointerToken(k),
              "unknown parameter \"" + k + "\" for " + transform + DidYouMean(k, known_));
      }
    }
  }

  bool ok() const { return ok_; }
  const std::string& file() const { return file_; }
  const std::string& ptr() const { return ptr_; }

 private:
  const json& obj_;
  const std::string& file_;
  const std::string& ptr_;
  BuildContext* ctx_;
  std::vector<std::string> known_;
  bool ok_ = true;
};

std::optional<mask::Key> ResolveKey(Params& p, BuildContext* ctx) {
  std::optional<std::string> name = p.Str("key", true);
  if (!name) return std::nullopt;
  const LoadOptions& o = *ctx->options;
  if (o.keys) {
    if (const mask::Key* k = o.keys->Find(*name)) return *k;
    p.Error("key", "unknown key \"" + *name + "\"" + DidYouMean(*name, o.keys->Names()));
    return std::nullopt;
  }
  if (o.allow_missing_keys) {
    if (ctx->placeholder_keys_reported.insert(*name).second) {
      ctx->warnings->push_back({p.file(), p.ptr() + "/key",
                                "key \"" + *name + "\" not checked: no key file given", true});
    }
    return mask::Key();
  }
  p.Error("key", "rules use key \"" + *name + "\" but no key file was given");
  return std::nullopt;
}

StatusOr<mask::TransformPtr> BuildRedact(Params& p, const json& node, BuildContext* ctx) {
  mask::RedactOptions o;
  std::vector<std::string> names;
  for (mask::Detector d : mask::AllDetectors()) names.emplace_back(mask::DetectorName(d));
  if (const json* v = p.Get("detectors")) {
    if (!v->is_array()) {
      p.Error("detectors", "expected an array of detector names");
    } else {
      for (size_t i = 0; i < v->size(); ++i) {
        mask::Detector d;
        const json& e = (*v)[i];
        if (!e.is_string() || !mask::ParseDetector(e.get<std::string>(), &d)) {
          std::string s = e.is_string() ? e.get<std::string>() : "";
          p.Error("detectors/" + std::to_string(i),
                  "unknown detector" + (s.empty() ? "" : " \"" + s + "\"") + DidYouMean(s, names));
        } else {
          o.detectors.push_back(d);
        }
      }
      if (v->empty()) p.Error("detectors", "an empty detector list redacts nothing");
    }
  } else {
    o.detectors = mask::AllDetectors();
  }
  if (const json* v = p.Get("labels")) {
    if (!v->is_object()) {
      p.Error("labels", "expected an object of detector name to label");
    } else {
      for (const auto& [k, l] : v->items()) {
        mask::Detector d;
        if (!mask::ParseDetector(k, &d)) {
          p.Error("labels/" + PointerToken(k),
                  "unknown detector \"" + k + "\"" + DidYouMean(k, names));
        } else if (!l.is_string()) {
          p.Error("labels/" + PointerToken(k), "expected a string");
        } else {
          o.labels[d] = l.get<std::string>();
        }
      }
    }
  }
  if (const json* v = p.Get("custom")) {
    if (!v->is_array()) {
      p.Error("custom", "expected an array of {name, pattern, label}");
    } else {
      for (size_t i = 0; i < v->size(); ++i) {
        const json& e = (*v)[i];
        const std::string at = "custom/" + std::to_string(i);
        if (!e.is_object() || !e.contains("name") || !e.contains("pattern") ||
            !e["name"].is_string() || !e["pattern"].is_string() ||
            (e.contains("label") && !e["label"].is_string())) {
          p.Error(at, "expected {\"name\": string, \"pattern\": string, \"label\": string}");
          continue;
        }
        std::string name = e["name"].get<std::string>();
        o.custom.push_back(
            {name, e["pattern"].get<std::string>(), e.value("label", "[" + name + "]")});
      }
    }
  }
  if (!p.ok()) return InvalidArgument("");
  // Columns with the same redact options share one compiled Redactor.
  const std::string key = node.dump();
  auto it = ctx->redactors.find(key);
  if (it != ctx->redactors.end()) return mask::MakeRedact(it->second);
  auto r = mask::Redactor::Create(o);
  if (!r.ok()) return r.status();
  ctx->redactors[key] = *r;
  return mask::MakeRedact(*r);
}

StatusOr<mask::TransformPtr> BuildTransform(const std::string& name, Params& p, const json& node,
                                            BuildContext* ctx) {
  if (name == "show") return mask::MakeShow();
  if (name == "null") return mask::MakeNull();
  if (name == "constant") {
    mask::ConstantOptions o;
    const json* v = p.Get("value");
    if (!v) {
      p.Error("", "missing parameter \"value\"");
    } else if (v->is_string()) {
      o.value = v->get<std::string>();
    } else if (v->is_number() || v->is_boolean()) {
      o.value = v->is_boolean() ? (v->get<bool>() ? "t" : "f") : v->dump();
    } else {
      p.Error("value", "expected a string, number or boolean");
    }
    o.replace_null = p.Bool("replace_null").value_or(false);
    if (!p.ok()) return InvalidArgument("");
    return mask::MakeConstant(o);
  }
  if (name == "partial") {
    mask::PartialOptions o;
    o.keep_first = static_cast<int>(p.Int("keep_first", false, 0, 1000).value_or(0));
    o.keep_last = static_cast<int>(p.Int("keep_last", false, 0, 1000).value_or(0));
    if (auto f = p.Str("fill", false)) o.fill = *f;
    if (auto f = p.Int("fill_length", false, 1, 64)) o.fill_length = static_cast<int>(*f);
    if (auto f = p.Str("keep_after", false)) o.keep_after = *f;
    if (!p.ok()) return InvalidArgument("");
    return mask::MakePartial(o);
  }
  if (name == "hash") {
    std::optional<mask::Key> key = ResolveKey(p, ctx);
    int length = static_cast<int>(p.Int("length", false, 8, 64).value_or(16));
    if (!p.ok() || !key) return InvalidArgument("");
    return mask::MakeHash({.key = *key, .length = length});
  }
  if (name == "pseudonym") {
    std::optional<mask::Key> key = ResolveKey(p, ctx);
    std::optional<std::string> domain = p.Str("domain", true);
    mask::PseudonymOptions o;
    o.prefix = p.Str("prefix", false).value_or("");
    o.text_length = static_cast<int>(p.Int("length", false, 8, 51).value_or(16));
    if (!p.ok() || !key || !domain) return InvalidArgument("");
    o.key = *key;
    o.domain = *domain;
    return mask::MakePseudonym(o);
  }
  if (name == "redact") return BuildRedact(p, node, ctx);
  if (name == "bucket") {
    mask::BucketOptions o;
    if (const json* v = p.Get("bounds")) {
      if (!v->is_array() || v->empty()) {
        p.Error("bounds", "expected a non-empty array of integers");
      } else {
        for (size_t i = 0; i < v->size(); ++i) {
          if (!(*v)[i].is_number_integer()) {
            p.Error("bounds/" + std::to_string(i), "expected an integer");
          } else {
            o.bounds.push_back((*v)[i].get<int64_t>());
          }
        }
      }
    }
    if (auto w = p.Int("width", false, INT64_MIN, INT64_MAX)) o.width = *w;
    o.origin = p.Int("origin", false, -(int64_t{1} << 53), int64_t{1} << 53).value_or(0);
    if (auto out = p.Str("output", false)) {
      if (*out == "label") {
        o.label = true;
      } else if (*out == "lower") {
        o.label = false;
      } else {
        p.Error("output", "expected \"label\" or \"lower\"" + DidYouMean(*out, {"label", "lower"}));
      }
    }
    if (!p.ok()) return InvalidArgument("");
    if (o.bounds.empty() && !o.width) return InvalidArgument("give \"bounds\" or \"width\"");
    return mask::MakeBucket(o);
  }
  if (name == "round") {
    std::optional<double> m = p.Number("multiple", true);
    if (!p.ok() || !m) return InvalidArgument("");
    return mask::MakeRound({.multiple = *m});
  }
  if (name == "truncate") {
    std::optional<std::string> unit = p.Str("unit", true);
    static const std::vector<std::string> kUnits = {"year", "month", "day", "hour"};
    mask::TruncateOptions o;
    if (unit) {
      auto it = std::find(kUnits.begin(), kUnits.end(), *unit);
      if (it == kUnits.end()) {
        p.Error("unit", "expected one of year, month, day, hour" + DidYouMean(*unit, kUnits));
      } else {
        o.unit = static_cast<mask::TruncateUnit>(it - kUnits.begin());
      }
    }
    if (std::optional<std::string> zone = p.Str("zone", false)) {
      if (!ParseUtcOffset(*zone, &o.zone_offset_s)) {
        p.Error("zone", "expected a fixed UTC offset such as \"+08\", \"-03:30\" or \"UTC\"");
      }
    }
    if (!p.ok()) return InvalidArgument("");
    return mask::MakeTruncate(o);
  }
  if (name == "age_band") {
    mask::AgeBandOptions o;
    o.width = static_cast<int>(p.Int("width", false, INT32_MIN, INT32_MAX).value_or(5));
    o.today = ctx->options->today;
    if (!p.ok()) return InvalidArgument("");
    return mask::MakeAgeBand(o);
  }
  if (name == "map") {
    mask::MapOptions o;
    const json* t = p.Get("table");
    if (!t || !t->is_object()) {
      p.Error(t ? "table" : "",
              t ? "expected an object of value to replacement" : "missing parameter \"table\"");
    } else {
      for (const auto& [k, v] : t->items()) {
        if (!v.is_string()) {
          p.Error("table/" + PointerToken(k), "expected a string");
        } else {
          o.table.emplace(k, v.get<std::string>());
        }
      }
    }
    if (const json* d = p.Get("default")) {
      if (d->is_string()) {
        o.default_value = d->get<std::string>();
      } else if (!d->is_null()) {
        p.Error("default", "expected a string or null");
      }
    }
    if (!p.ok()) return InvalidArgument("");
    return mask::MakeMap(o);
  }
  return InvalidArgument("unknown transform");
}

}  // namespace

std::shared_ptr<const CompiledRule> BuildRule(const json& node, const std::string& file,
                                              const std::string& pointer, BuildContext* ctx) {
  std::string name;
  if (node.is_string()) {
    name = node.get<std::string>();
  } else if (node.is_object()) {
    auto it = node.find("transform");
    if (it == node.end() || !it->is_string()) {
      ctx->errors->push_back({file, pointer, "a rule needs \"transform\": one of show, null, ..."});
      return nullptr;
    }
    name = it->get<std::string>();
  } else {
    ctx->errors->push_back({file, pointer, "expected a transform name or a rule object"});
    return nullptr;
  }
  const std::string name_ptr = node.is_object() ? pointer + "/transform" : pointer;
  if (std::find(TransformNames().begin(), TransformNames().end(), name) == TransformNames().end()) {
    ctx->errors->push_back(
        {file, name_ptr,
         "unknown transform \"" + name + "\"" + DidYouMean(name, TransformNames())});
    return nullptr;
  }
  static const json kEmpty = json::object();
  const json& obj = node.is_object() ? node : kEmpty;
  Params p(obj, file, pointer, ctx);
  const size_t errors_before = ctx->errors->size();
  StatusOr<mask::TransformPtr> t = BuildTransform(name, p, obj, ctx);
  p.Finish(name);
  if (!t.ok() || !p.ok()) {
    if (!t.ok() && ctx->errors->size() == errors_before && !t.status().message().empty()) {
      ctx->errors->push_back({file, pointer, name + ": " + t.status().message()});
    }
    return nullptr;
  }
  auto rule = std::make_shared<CompiledRule>();
  rule->transform = *t;
  rule->transform_name = name;
  rule->filter = name == "show" ? Filter::kAllow : Filter::kDeny;
  if (auto it = obj.find("filter"); it != obj.end()) {
    static const std::vector<std::string> kFilters = {"deny", "aligned", "pseudonym", "allow"};
    const std::string f = it->is_string() ? it->get<std::string>() : "";
    auto fit = std::find(kFilters.begin(), kFilters.end(), f);
    if (fit == kFilters.end()) {
      ctx->errors->push_back(
          {file, pointer + "/filter",
           "expected one of deny, aligned, pseudonym, allow" + DidYouMean(f, kFilters)});
      return nullptr;
    }
    rule->filter = static_cast<Filter>(fit - kFilters.begin());
    static const std::vector<std::string> kAlignedOk = {"bucket", "round", "truncate", "age_band"};
    if (rule->filter == Filter::kAligned &&
        std::find(kAlignedOk.begin(), kAlignedOk.end(), name) == kAlignedOk.end()) {
      ctx->errors->push_back(
          {file, pointer + "/filter",
           "\"aligned\" needs a transform with boundaries (bucket, round, truncate, age_band)"});
      return nullptr;
    }
    if (rule->filter == Filter::kPseudonym && name != "pseudonym") {
      ctx->errors->push_back(
          {file, pointer + "/filter", "\"pseudonym\" needs the pseudonym transform"});
      return nullptr;
    }
  }
  json params = obj;
  params.erase("transform");
  params.erase("filter");
  params.erase("description");
  rule->spec = params.empty() ? name : name + params.dump();
  return rule;
}

}  // namespace pgveil::rules
