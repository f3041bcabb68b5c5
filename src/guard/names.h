// The guard's name lists: built-in functions a masked session may call, functions it
// may never call, system relations that are side channels, and settings it may change.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgveil::guard {

enum class FunctionClass {
  kAllowed,      // a built-in that computes from its arguments only
  kCount,        // count(): reveals no value of its argument
  kNoProtected,  // allowed only in statements that read no protected relation
  kRefused,      // runs SQL from strings, maps tables to XML/JSON, files, ...
  kUnknown,      // not a built-in pgveil knows: refused
};

// `schema` is empty when the call is unqualified; only pg_catalog functions are known,
// and information_schema._pg_expandarray when called with its schema.
FunctionClass ClassifyFunction(std::string_view schema, std::string_view name);

// The columns of the composite results of allowed functions (json_each's key and value,
// _pg_expandarray's x and n, ...): in `(f(...)).x` and `alias.x` PostgreSQL takes such a
// name for a field, and none of them names a function that could be called in its place.
bool IsResultFieldName(std::string_view name);

// Relations of pg_catalog / information_schema that masked sessions may not read
// (statistics, activity, authentication, large objects, server files).
bool IsSideChannelRelation(std::string_view name);

// True for a system schema whose relations hold no member data.
bool IsSystemSchema(std::string_view schema);

// ASCII lower case, as PostgreSQL folds names and keywords.
std::string Lower(std::string_view s);

enum class SettingClass { kAllowed, kRefused };
// Settings a masked session may SET / RESET / SHOW. `name` is lower case.
SettingClass ClassifySetting(std::string_view name);

// True for a value of client_min_messages that masked sessions may set (notice, warning,
// error, any case): LOG and DEBUG messages quote the statement as the server received
// it, with pseudonyms turned back into real values, and the parameters of Bind.
bool ClientMessagesLevelAllowed(std::string_view value);
// Settings masked sessions may change only within a range of values (client_min_messages,
// DateStyle, search_path): the refusal for `value` (a SET's values joined by commas), or nullopt
// when the value is allowed or the setting is not one of them.
struct ValueRefusal {
  std::string message;
  std::string hint;
};
std::optional<ValueRefusal> CheckSettingValue(std::string_view name, std::string_view value);
// True for the settings CheckSettingValue looks at.
bool ValueChecked(std::string_view name);

// True when a DateStyle value keeps the ISO output style that masking reads dates and
// timestamps in: no SQL, Postgres or German among its comma-separated words.
bool DateStyleKeepsIso(std::string_view value);

// The white space around the items of a list setting (search_path, DateStyle) as the
// server splits it (SplitIdentifierString): form feeds and vertical tabs too.
bool ListSpace(char c);

// True when a search_path value (a list of schema names as the server splits it: commas,
// double-quoted or lower-cased names) keeps pg_catalog first, where function, operator and
// type names resolve to the built-ins the guard knows: pg_catalog left out (the server
// then searches it first) or named first, and no pg_temp. An empty list is allowed.
bool SearchPathKeepsCatalogFirst(std::string_view value);

}  // namespace pgveil::guard
