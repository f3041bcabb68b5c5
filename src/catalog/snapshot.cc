#include "pgveil/catalog/snapshot.h"

#include <algorithm>
#include <utility>

namespace pgveil::catalog {
namespace {

std::string NameKey(std::string_view schema, std::string_view name) {
  std::string key;
  key.reserve(schema.size() + 1 + name.size());
  key.append(schema);
  key.push_back('\0');
  key.append(name);
  return key;
}

}  // namespace

const Column* Relation::FindColumn(int16_t attnum) const {
  // Without dropped columns, attnum n sits at index n - 1: try that first.
  if (attnum > 0 && static_cast<size_t>(attnum) <= columns.size() &&
      columns[attnum - 1].attnum == attnum) {
    return &columns[attnum - 1];
  }
  for (const Column& c : columns) {
    if (c.attnum == attnum) return &c;
  }
  return nullptr;
}

const Column* Relation::FindColumn(std::string_view name) const {
  for (const Column& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Snapshot::Snapshot(std::vector<Relation> relations, int64_t version)
    : relations_(std::move(relations)), version_(version) {
  by_oid_.reserve(relations_.size());
  by_name_.reserve(relations_.size());
  for (size_t i = 0; i < relations_.size(); ++i) {
    Relation& rel = relations_[i];
    std::stable_sort(rel.columns.begin(), rel.columns.end(),
                     [](const Column& a, const Column& b) { return a.attnum < b.attnum; });
    by_oid_.emplace(rel.oid, i);  // emplace keeps the first of duplicates
    by_name_.emplace(NameKey(rel.schema, rel.name), i);
  }
}

const Relation* Snapshot::FindRelation(uint32_t oid) const {
  auto it = by_oid_.find(oid);
  return it == by_oid_.end() ? nullptr : &relations_[it->second];
}

const Relation* Snapshot::FindRelation(std::string_view schema, std::string_view name) const {
  auto it = by_name_.find(NameKey(schema, name));
  return it == by_name_.end() ? nullptr : &relations_[it->second];
}

}  // namespace pgveil::catalog
