// Rules files → RuleSet: parse, merge, validate (collecting every error), compile the
// per-policy lookup tables. The precedence implemented in Resolve() below is documented
// in docs/rules.md ("How a column's rule is chosen").
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "rules/data.h"
#include "rules/params.h"

namespace pgveil::rules {

using nlohmann::json;

namespace {

struct RuleRef {
  std::shared_ptr<const CompiledRule> rule;
};
using RuleMap = std::map<std::string, RuleRef>;  // policy name or "*" → rule

struct PolicyDef {
  std::string name, file, ptr;
  std::vector<std::string> roles;
  bool unmasked = false;
  std::string extends;
};

struct TypeDef {
  std::string file, ptr;
  uint32_t pg_type = 0;
  RuleMap rules;
};

struct ColumnDef {
  std::string file, ptr;
  std::string type;
  uint32_t pg_type = 0;
  RuleMap rules;
};

struct RelationDef {
  std::string schema, table, file, ptr;
  std::map<std::string, ColumnDef> columns;
  RuleMap defaults;
  bool has_default = false;
};

struct SourceDoc {
  std::string file;
  json doc;
};

class Loader {
 public:
  explicit Loader(const LoadOptions& options) : options_(options) {
    ctx_.options = &options_;
    ctx_.errors = &result_.errors;
    ctx_.warnings = &result_.warnings;
  }

  void AddFile(const std::string& file, const std::string& content) {
    json doc;
    try {
      doc = json::parse(content, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
      // Report the line, not the parser's quote of the input.
      size_t line =
          1 + std::count(content.begin(), content.begin() + std::min(e.byte, content.size()), '\n');
      Error(file, "", "invalid JSON at line " + std::to_string(line));
      return;
    }
    if (!doc.is_object()) {
      Error(file, "", "expected a JSON object");
      return;
    }
    static const std::vector<std::string> kTop = {"$schema", "description", "policies",
                                                  "types",   "relations",   "unlisted_relations"};
    for (const auto& [k, v] : doc.items()) {
      if (std::find(kTop.begin(), kTop.end(), k) == kTop.end()) {
        Error(file, "/" + PointerToken(k), "unknown member \"" + k + "\"" + DidYouMean(k, kTop));
      }
    }
    docs_.push_back({file, std::move(doc)});
  }

  LoadResult Finish() {
    if (docs_.empty() && result_.errors.empty()) Error("(rules)", "", "no rules files given");
    for (const auto& d : docs_) CollectPolicies(d);
    CheckPolicies();
    for (const auto& d : docs_) CollectTypes(d);
    for (const auto& d : docs_) CollectRelations(d);
    if (!result_.errors.empty()) return std::move(result_);
    Compile();
    return std::move(result_);
  }

 private:
  void Error(const std::string& file, const std::string& ptr, const std::string& msg) {
    result_.errors.push_back({file, ptr, msg});
  }

  bool ExpectObject(const json& v, const std::string& file, const std::string& ptr) {
    if (v.is_object()) return true;
    Error(file, ptr, "expected an object");
    return false;
  }

  // ---- policies ----------------------------------------------------------------------
  void CollectPolicies(const SourceDoc& d) {
    auto it = d.doc.find("policies");
    if (it == d.doc.end() || !ExpectObject(*it, d.file, "/policies")) return;
    for (const auto& [name, v] : it->items()) {
      const std::string ptr = "/policies/" + PointerToken(name);
      if (auto prev = policies_.find(name); prev != policies_.end()) {
        Error(d.file, ptr, "policy \"" + name + "\" is already defined in " + prev->second.file);
        continue;
      }
      if (name == "*" || name.empty()) {
        Error(d.file, ptr, "invalid policy name");
        continue;
      }
      if (!ExpectObject(v, d.file, ptr)) continue;
      PolicyDef p{name, d.file, ptr};
      static const std::vector<std::string> kMembers = {"roles", "unmasked", "extends",
                                                        "description"};
      for (const auto& [k, m] : v.items()) {
        const std::string mp = ptr + "/" + PointerToken(k);
        if (k == "roles") {
          if (!m.is_array()) {
            Error(d.file, mp, "expected an array of role names");
            continue;
          }
          for (size_t i = 0; i < m.size(); ++i) {
            if (!m[i].is_string() || m[i].get<std::string>().empty()) {
              Error(d.file, mp + "/" + std::to_string(i), "expected a role name");
            } else {
              p.roles.push_back(m[i].get<std::string>());
            }
          }
        } else if (k == "unmasked") {
          if (!m.is_boolean())
            Error(d.file, mp, "expected true or false");
          else
            p.unmasked = m.get<bool>();
        } else if (k == "extends") {
          if (!m.is_string())
            Error(d.file, mp, "expected a policy name");
          else
            p.extends = m.get<std::string>();
        } else if (k != "description") {
          Error(d.file, mp, "unknown member \"" + k + "\"" + DidYouMean(k, kMembers));
        }
      }
      policies_.emplace(name, std::move(p));
    }
  }

  void CheckPolicies() {
    for (const auto& [name, p] : policies_) policy_names_.push_back(name);
    if (!policies_.count("default")) {
      Error(docs_.empty() ? "(rules)" : docs_.front().file, "/policies",
            "a \"default\" policy is required (it applies to logins no policy names)");
    }
    for (const auto& [name, p] : policies_) {
      if (name == "default") {
        if (p.unmasked) Error(p.file, p.ptr + "/unmasked", "the default policy must be masked");
        if (!p.roles.empty()) {
          Error(p.file, p.ptr + "/roles",
                "the default policy applies to logins no policy names; it takes no roles");
        }
      } else if (p.roles.empty()) {
        Error(p.file, p.ptr, "policy \"" + name + "\" names no roles, so it never applies");
      }
      if (!p.extends.empty()) {
        auto parent = policies_.find(p.extends);
        if (parent == policies_.end()) {
          Error(p.file, p.ptr + "/extends",
                "extends unknown policy \"" + p.extends + "\"" +
                    DidYouMean(p.extends, policy_names_));
          continue;
        }
        if (p.unmasked || parent->second.unmasked) {
          Error(p.file, p.ptr + "/extends", "unmasked policies cannot extend or be extended");
          continue;
        }
        // Cycle: walk up until the chain ends or comes back.
        std::set<std::string> seen{name};
        for (std::string cur = p.extends; !cur.empty();) {
          if (!seen.insert(cur).second) {
            Error(p.file, p.ptr + "/extends",
                  "policy \"" + name + "\" is part of an extends cycle");
            break;
          }
          auto next = policies_.find(cur);
          cur = next == policies_.end() ? "" : next->second.extends;
        }
      }
    }
  }

  // The policy and its ancestors, nearest first (cycles already reported and cut).
  std::vector<std::string> Chain(const std::string& name) const {
    std::vector<std::string> chain;
    for (std::string cur = name; !cur.empty();) {
      if (std::find(chain.begin(), chain.end(), cur) != chain.end()) break;
      chain.push_back(cur);
      auto it = policies_.find(cur);
      cur = it == policies_.end() ? "" : it->second.extends;
    }
    return chain;
  }

  // ---- per-policy rule maps -----------------------------------------------------------
  void ParseRuleMap(const json& obj, const std::string& file, const std::string& ptr,
                    const std::vector<std::string>& reserved, RuleMap* out) {
    for (const auto& [k, v] : obj.items()) {
      if (std::find(reserved.begin(), reserved.end(), k) != reserved.end()) continue;
      const std::string rp = ptr + "/" + PointerToken(k);
      if (k != "*") {
        auto p = policies_.find(k);
        if (p == policies_.end()) {
          std::vector<std::string> cands = policy_names_;
          cands.insert(cands.end(), reserved.begin(), reserved.end());
          Error(file, rp, "unknown policy \"" + k + "\"" + DidYouMean(k, cands));
          continue;
        }
        if (p->second.unmasked) {
          Error(file, rp, "policy \"" + k + "\" is unmasked; rules for it have no effect");
          continue;
        }
      }
      if (auto rule = BuildRule(v, file, rp, &ctx_)) (*out)[k] = RuleRef{rule};
    }
  }

  uint32_t ParsePgType(const json& obj, const std::string& file, const std::string& ptr) {
    auto it = obj.find("pg_type");
    if (it == obj.end()) return 0;
    uint32_t oid = it->is_string() ? mask::ParseTypeName(it->get<std::string>()) : 0;
    if (oid == 0) Error(file, ptr + "/pg_type", "unknown PostgreSQL type name");
    return oid;
  }

  void CheckAccepts(const RuleMap& rules, uint32_t pg_type, const std::string& file,
                    const std::string& ptr) {
    if (pg_type == 0) return;
    for (const auto& [policy, r] : rules) {
      if (!r.rule->transform->Accepts(pg_type)) {
        Error(
            file, ptr + "/" + PointerToken(policy),
            r.rule->transform_name + " does not apply to " + std::string(mask::TypeName(pg_type)));
      }
    }
  }

  void CollectTypes(const SourceDoc& d) {
    auto it = d.doc.find("types");
    if (it == d.doc.end() || !ExpectObject(*it, d.file, "/types")) return;
    for (const auto& [name, v] : it->items()) {
      const std::string ptr = "/types/" + PointerToken(name);
      if (auto prev = types_.find(name); prev != types_.end()) {
        Error(d.file, ptr, "type \"" + name + "\" is already defined in " + prev->second.file);
        continue;
      }
      if (!ExpectObject(v, d.file, ptr)) continue;
      TypeDef t{d.file, ptr};
      t.pg_type = ParsePgType(v, d.file, ptr);
      ParseRuleMap(v, d.file, ptr, {"description", "pg_type"}, &t.rules);
      CheckAccepts(t.rules, t.pg_type, d.file, ptr);
      types_.emplace(name, std::move(t));
    }
  }

  void CollectRelations(const SourceDoc& d) {
    std::vector<std::string> type_names;
    for (const auto& [n, t] : types_) type_names.push_back(n);
    if (auto it = d.doc.find("unlisted_relations"); it != d.doc.end()) {
      if (unlisted_file_.empty()) {
        unlisted_file_ = d.file;
        if (ExpectObject(*it, d.file, "/unlisted_relations")) {
          ParseRuleMap(*it, d.file, "/unlisted_relations", {"description"}, &unlisted_);
        }
      } else {
        Error(d.file, "/unlisted_relations", "already given in " + unlisted_file_);
      }
    }
    auto it = d.doc.find("relations");
    if (it == d.doc.end() || !ExpectObject(*it, d.file, "/relations")) return;
    for (const auto& [name, v] : it->items()) {
      const std::string ptr = "/relations/" + PointerToken(name);
      const size_t dot = name.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == name.size() ||
          name.find('.', dot + 1) != std::string::npos) {
        Error(d.file, ptr, "expected a relation name \"schema.table\"");
        continue;
      }
      if (!ExpectObject(v, d.file, ptr)) continue;
      RelationDef& rel = relations_[name];
      if (rel.file.empty()) {
        rel.schema = name.substr(0, dot);
        rel.table = name.substr(dot + 1);
        rel.file = d.file;
        rel.ptr = ptr;
      }
      static const std::vector<std::string> kMembers = {"columns", "default", "description"};
      for (const auto& [k, m] : v.items()) {
        if (std::find(kMembers.begin(), kMembers.end(), k) == kMembers.end()) {
          Error(d.file, ptr + "/" + PointerToken(k),
                "unknown member \"" + k + "\"" + DidYouMean(k, kMembers));
        }
      }
      if (auto def = v.find("default"); def != v.end()) {
        if (rel.has_default) {
          Error(d.file, ptr + "/default", "default for " + name + " already given in " + rel.file);
        } else if (ExpectObject(*def, d.file, ptr + "/default")) {
          rel.has_default = true;
          ParseRuleMap(*def, d.file, ptr + "/default", {}, &rel.defaults);
        }
      }
      auto cols = v.find("columns");
      if (cols == v.end() || !ExpectObject(*cols, d.file, ptr + "/columns")) continue;
      for (const auto& [cname, cv] : cols->items()) {
        const std::string cp = ptr + "/columns/" + PointerToken(cname);
        if (rel.columns.count(cname)) {
          Error(
              d.file, cp,
              "column " + name + "." + cname + " is already listed in " + rel.columns[cname].file);
          continue;
        }
        ColumnDef c{d.file, cp};
        if (cv.is_string()) {
          c.type = cv.get<std::string>();
        } else if (cv.is_object()) {
          if (auto t = cv.find("type"); t != cv.end()) {
            if (!t->is_string())
              Error(d.file, cp + "/type", "expected a type name");
            else
              c.type = t->get<std::string>();
          }
          c.pg_type = ParsePgType(cv, d.file, cp);
          ParseRuleMap(cv, d.file, cp, {"type", "pg_type", "description"}, &c.rules);
        } else {
          Error(d.file, cp, "expected a type name or an object of per-policy rules");
          continue;
        }
        const TypeDef* type = nullptr;
        if (!c.type.empty()) {
          auto t = types_.find(c.type);
          if (t == types_.end()) {
            Error(d.file, cv.is_string() ? cp : cp + "/type",
                  "unknown type \"" + c.type + "\"" + DidYouMean(c.type, type_names));
          } else {
            type = &t->second;
          }
        }
        uint32_t declared = c.pg_type ? c.pg_type : type ? type->pg_type : 0;
        CheckAccepts(c.rules, declared, d.file, cp);
        if (type && c.pg_type && !type->pg_type) CheckAccepts(type->rules, c.pg_type, d.file, cp);
        rel.columns.emplace(cname, std::move(c));
      }
    }
  }

  // ---- compile ----------------------------------------------------------------------
  // The first rule found, trying each policy of the chain (nearest first) in each map in
  // order, then "*" in each map.
  std::optional<ColumnRule> Resolve(
      const std::vector<std::string>& chain,
      const std::vector<std::pair<const RuleMap*, RuleOrigin>>& maps) {
    auto make = [](const RuleRef& r, RuleOrigin origin) {
      return ColumnRule{r.rule->transform, r.rule->filter, origin, "", r.rule->spec};
    };
    for (const auto& q : chain) {
      for (const auto& [m, origin] : maps) {
        if (auto it = m->find(q); it != m->end()) return make(it->second, origin);
      }
    }
    for (const auto& [m, origin] : maps) {
      if (auto it = m->find("*"); it != m->end()) return make(it->second, origin);
    }
    return std::nullopt;
  }

  void Compile() {
    auto data = std::make_unique<RuleSet::Data>();
    data->keys = options_.keys;
    static const RuleMap kNone;
    for (const auto& [name, p] : policies_) {
      auto pd = std::make_shared<Policy::Data>();
      pd->name = name;
      pd->unmasked = p.unmasked;
      pd->roles = p.roles;
      pd->file = p.file;
      pd->pointer = p.ptr;
      if (!p.unmasked) {
        const auto chain = Chain(name);
        pd->unlisted = Resolve(chain, {{&unlisted_, RuleOrigin::kUndeclaredRelation}});
        for (const auto& [rname, rel] : relations_) {
          RelationTable& table = pd->relations[rname];
          table.default_rule = Resolve(chain, {{&rel.defaults, RuleOrigin::kRelationDefault}});
          for (const auto& [cname, c] : rel.columns) {
            const TypeDef* type = c.type.empty() ? nullptr : &types_.at(c.type);
            std::optional<ColumnRule> r =
                Resolve(chain, {{&c.rules, RuleOrigin::kColumn},
                                {type ? &type->rules : &kNone, RuleOrigin::kType}});
            if (!r) r = table.default_rule;
            if (!r)
              r = ColumnRule{mask::MakeNull(), Filter::kDeny, RuleOrigin::kUnlistedColumn, "",
                             "null"};
            r->type_name = c.type;
            table.columns.emplace(cname, std::move(*r));
          }
        }
      }
      data->policy_data.emplace(name, pd);
      data->policies.emplace(
          name, std::make_shared<Policy>(std::vector<std::shared_ptr<const Policy::Data>>{pd}));
    }
    for (const auto& [rname, rel] : relations_) {
      data->relations.push_back({rel.schema, rel.table, rel.file, rel.ptr, rel.has_default});
      for (const auto& [cname, c] : rel.columns) {
        uint32_t declared = c.pg_type;
        if (!declared && !c.type.empty()) declared = types_.at(c.type).pg_type;
        data->columns.push_back({rel.schema, rel.table, cname, c.file, c.ptr, declared});
      }
    }
    result_.rules = std::make_shared<RuleSet>(std::move(data));
  }

  LoadOptions options_;
  BuildContext ctx_;
  LoadResult result_;
  std::vector<SourceDoc> docs_;
  std::map<std::string, PolicyDef> policies_;
  std::vector<std::string> policy_names_;
  std::map<std::string, TypeDef> types_;
  std::map<std::string, RelationDef> relations_;
  RuleMap unlisted_;
  std::string unlisted_file_;
};

}  // namespace

LoadResult LoadRulesFromStrings(const std::vector<std::pair<std::string, std::string>>& files,
                                const LoadOptions& options) {
  Loader loader(options);
  for (const auto& [name, content] : files) loader.AddFile(name, content);
  return loader.Finish();
}

LoadResult LoadRules(const std::vector<std::string>& paths, const LoadOptions& options) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> files;
  LoadResult failed;
  auto read = [&](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      failed.errors.push_back({p.string(), "", "cannot read file"});
      return;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    files.emplace_back(p.string(), ss.str());
  };
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> entries;
      for (const auto& e : fs::directory_iterator(path, ec)) {
        if (e.is_regular_file() && e.path().extension() == ".json") entries.push_back(e.path());
      }
      std::sort(entries.begin(), entries.end());
      if (entries.empty()) failed.errors.push_back({path, "", "directory holds no .json files"});
      for (const auto& e : entries) read(e);
    } else if (fs::exists(path, ec)) {
      read(path);
    } else {
      failed.errors.push_back({path, "", "no such file or directory"});
    }
  }
  LoadResult r = LoadRulesFromStrings(files, options);
  if (!failed.errors.empty()) {
    r.rules = nullptr;
    r.errors.insert(r.errors.begin(), failed.errors.begin(), failed.errors.end());
  }
  return r;
}

}  // namespace pgveil::rules
