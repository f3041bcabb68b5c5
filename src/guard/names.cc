#include "guard/names.h"

#include <array>
#include <cctype>
#include <string>
#include <unordered_set>

namespace pgveil::guard {
namespace {

using Set = std::unordered_set<std::string_view>;

// Built-ins that compute only from their arguments (and the clock), or describe the
// schema the way psql's \d commands do. Whether an argument may be a protected column is
// decided by the column's filter setting, and what they return from one is refused as
// an output: the list only says that the function itself reads nothing else.
const Set& AllowedFunctions() {
  static const Set s = {
      // aggregates
      "sum",
      "avg",
      "min",
      "max",
      "bool_and",
      "bool_or",
      "every",
      "string_agg",
      "array_agg",
      "json_agg",
      "jsonb_agg",
      "json_object_agg",
      "jsonb_object_agg",
      "stddev",
      "stddev_pop",
      "stddev_samp",
      "variance",
      "var_pop",
      "var_samp",
      "percentile_cont",
      "percentile_disc",
      "mode",
      "corr",
      "covar_pop",
      "covar_samp",
      "regr_avgx",
      "regr_avgy",
      "regr_count",
      "regr_intercept",
      "regr_r2",
      "regr_slope",
      "regr_sxx",
      "regr_sxy",
      "regr_syy",
      "bit_and",
      "bit_or",
      "bit_xor",
      "grouping",
      // window functions
      "row_number",
      "rank",
      "dense_rank",
      "percent_rank",
      "cume_dist",
      "ntile",
      "lag",
      "lead",
      "first_value",
      "last_value",
      "nth_value",
      // strings
      "lower",
      "upper",
      "initcap",
      "length",
      "char_length",
      "character_length",
      "octet_length",
      "bit_length",
      "substr",
      "substring",
      "left",
      "right",
      "lpad",
      "rpad",
      "ltrim",
      "rtrim",
      "btrim",
      "trim",
      "replace",
      "translate",
      "concat",
      "concat_ws",
      "format",
      "position",
      "strpos",
      "split_part",
      "starts_with",
      "reverse",
      "repeat",
      "md5",
      "sha224",
      "sha256",
      "sha384",
      "sha512",
      "encode",
      "decode",
      "to_hex",
      "ascii",
      "chr",
      "quote_ident",
      "quote_literal",
      "quote_nullable",
      "regexp_replace",
      "regexp_match",
      "regexp_matches",
      "regexp_split_to_array",
      "regexp_split_to_table",
      "regexp_like",
      "regexp_count",
      "regexp_substr",
      "regexp_instr",
      "overlay",
      "normalize",
      "string_to_array",
      "string_to_table",
      "array_to_string",
      "to_char",
      "to_number",
      "to_date",
      "to_timestamp",
      "textlen",
      "like_escape",
      "similar_escape",
      "similar_to_escape",
      // numbers
      "abs",
      "ceil",
      "ceiling",
      "floor",
      "round",
      "trunc",
      "sign",
      "sqrt",
      "cbrt",
      "power",
      "pow",
      "exp",
      "ln",
      "log",
      "log10",
      "mod",
      "div",
      "pi",
      "width_bucket",
      "degrees",
      "radians",
      "sin",
      "cos",
      "tan",
      "asin",
      "acos",
      "atan",
      "atan2",
      "gcd",
      "lcm",
      "factorial",
      "scale",
      "min_scale",
      "trim_scale",
      "random",
      "setseed",
      // date and time
      "now",
      "date_trunc",
      "date_part",
      "extract",
      "age",
      "make_date",
      "make_time",
      "make_timestamp",
      "make_timestamptz",
      "make_interval",
      "justify_days",
      "justify_hours",
      "justify_interval",
      "date_bin",
      "clock_timestamp",
      "statement_timestamp",
      "transaction_timestamp",
      "timeofday",
      "isfinite",
      "timezone",
      "overlaps",
      // arrays and sets
      "array_length",
      "array_lower",
      "array_upper",
      "cardinality",
      "unnest",
      "array_position",
      "array_positions",
      "array_append",
      "array_prepend",
      "array_cat",
      "array_remove",
      "array_replace",
      "generate_series",
      "generate_subscripts",
      "array_dims",
      "array_ndims",
      "array_fill",
      "trim_array",
      // json
      "json_build_object",
      "row_to_json",
      "jsonb_build_object",
      "json_build_array",
      "jsonb_build_array",
      "json_object",
      "jsonb_object",
      "to_json",
      "to_jsonb",
      "json_array_length",
      "jsonb_array_length",
      "json_extract_path",
      "json_extract_path_text",
      "jsonb_extract_path",
      "jsonb_extract_path_text",
      "json_each",
      "jsonb_each",
      "json_each_text",
      "jsonb_each_text",
      "json_object_keys",
      "jsonb_object_keys",
      "jsonb_pretty",
      "json_typeof",
      "jsonb_typeof",
      "jsonb_set",
      "jsonb_insert",
      "jsonb_strip_nulls",
      "json_strip_nulls",
      "json_array_elements",
      "jsonb_array_elements",
      "json_array_elements_text",
      "jsonb_array_elements_text",
      // types, schema description (psql's \d family), session facts
      "format_type",
      "pg_typeof",
      "pg_get_userbyid",
      "pg_get_expr",
      "pg_get_indexdef",
      "pg_get_constraintdef",
      "pg_get_triggerdef",
      "pg_get_viewdef",
      "pg_get_ruledef",
      "pg_get_functiondef",
      "pg_get_function_arguments",
      "pg_get_function_result",
      "pg_get_function_identity_arguments",
      "pg_get_function_sqlbody",
      "pg_get_partkeydef",
      "pg_get_partition_constraintdef",
      "pg_get_statisticsobjdef",
      "pg_get_statisticsobjdef_columns",
      "pg_get_statisticsobjdef_expressions",
      "pg_get_serial_sequence",
      "pg_table_is_visible",
      "pg_type_is_visible",
      "pg_function_is_visible",
      "pg_operator_is_visible",
      "pg_opclass_is_visible",
      "pg_opfamily_is_visible",
      "pg_collation_is_visible",
      "pg_conversion_is_visible",
      "pg_statistics_obj_is_visible",
      "pg_ts_parser_is_visible",
      "pg_ts_dict_is_visible",
      "pg_ts_template_is_visible",
      "pg_ts_config_is_visible",
      "obj_description",
      "col_description",
      "shobj_description",
      "pg_encoding_to_char",
      "pg_char_to_encoding",
      "has_table_privilege",
      "has_column_privilege",
      "has_schema_privilege",
      "has_database_privilege",
      "has_function_privilege",
      "has_sequence_privilege",
      "has_type_privilege",
      "has_any_column_privilege",
      "has_tablespace_privilege",
      "pg_has_role",
      "current_schema",
      "current_schemas",
      "current_database",
      "current_user",
      "session_user",
      "current_role",
      "version",
      "pg_backend_pid",
      "pg_is_in_recovery",
      "pg_relation_size",
      "pg_total_relation_size",
      "pg_table_size",
      "pg_indexes_size",
      "pg_size_pretty",
      "pg_relation_is_publishable",
      "pg_get_keywords",
      "pg_tablespace_location",
      "pg_partition_root",
      "pg_partition_ancestors",
      "pg_partition_tree",
      "pg_describe_object",
      "pg_identify_object",
      "pg_collation_for",
      "pg_is_other_temp_schema",
      "pg_my_temp_schema",
      "pg_options_to_table",
      "current_setting",
      "pg_postmaster_start_time",
      "pg_conf_load_time",
      "pg_jit_available",
      "txid_current",
      "pg_current_xact_id",
      "pg_get_replica_identity_index",
      "array_in",
      "pg_column_is_updatable",
      "pg_relation_is_updatable",
      "pg_get_constraintdef",
      "pg_index_column_has_property",
      "pg_index_has_property",
      "pg_indexam_has_property",
      "pg_sequence_parameters",
      "pg_get_publication_tables",
      "pg_relation_filenode",
      "pg_advisory_lock",
      "pg_advisory_unlock",
      "pg_try_advisory_lock",
      "pg_advisory_xact_lock",
      "pg_try_advisory_xact_lock",
      "pg_advisory_unlock_all",
      "gen_random_uuid",
      "uuid_in",
      "bool",
      "int2",
      "int4",
      "int8",
      "float4",
      "float8",
      "numeric",
      "text",
      "date",
      "timestamp",
      "timestamptz",
      "interval",
      "varchar",
      "bpchar",
  };
  return s;
}

// Named in refusals as what they are rather than as "unknown".
const Set& RefusedFunctions() {
  static const Set s = {
      "query_to_xml",
      "query_to_xmlschema",
      "query_to_xml_and_xmlschema",
      "table_to_xml",
      "table_to_xmlschema",
      "table_to_xml_and_xmlschema",
      "cursor_to_xml",
      "cursor_to_xmlschema",
      "schema_to_xml",
      "schema_to_xmlschema",
      "schema_to_xml_and_xmlschema",
      "database_to_xml",
      "database_to_xmlschema",
      "database_to_xml_and_xmlschema",
      "set_config",
      "current_query",
      "pg_terminate_backend",
      "pg_cancel_backend",
      "pg_reload_conf",
      "pg_rotate_logfile",
      "pg_current_logfile",
      "pg_stat_file",
      "pg_blocking_pids",
      "pg_safe_snapshot_blocking_pids",
      "pg_export_snapshot",
      "pg_import_system_collations",
      "json_populate_record",
      "jsonb_populate_record",
      "json_populate_recordset",
      "jsonb_populate_recordset",
  };
  return s;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

FunctionClass ClassifyFunction(std::string_view schema, std::string_view name) {
  if (schema == "information_schema") {
    // Its helper that expands an array into (element, position) rows, as unnest WITH
    // ORDINALITY does: JDBC's DatabaseMetaData (primary keys, indexes) calls it. Only
    // superusers can create functions in information_schema.
    return name == "_pg_expandarray" ? FunctionClass::kAllowed : FunctionClass::kUnknown;
  }
  if (!schema.empty() && schema != "pg_catalog") return FunctionClass::kUnknown;
  if (name == "count") return FunctionClass::kCount;
  if (name == "pg_sleep" || name == "pg_sleep_for" || name == "pg_sleep_until" ||
      name == "pg_notify") {
    return FunctionClass::kNoProtected;
  }
  if (RefusedFunctions().count(name) != 0) return FunctionClass::kRefused;
  for (std::string_view p : {"pg_stat_", "pg_read_", "pg_ls_", "lo_", "dblink", "pg_file_",
                             "pg_logical_", "pg_replication_", "pg_create_", "pg_drop_",
                             "pg_backup_", "pg_switch_", "pg_promote", "pg_walfile"}) {
    if (StartsWith(name, p)) return FunctionClass::kRefused;
  }
  if (name == "loread" || name == "lowrite") return FunctionClass::kRefused;
  if (AllowedFunctions().count(name) != 0) return FunctionClass::kAllowed;
  return FunctionClass::kUnknown;
}

bool IsResultFieldName(std::string_view name) {
  static const Set s = {
      // json_each, jsonb_each, json_each_text, jsonb_each_text
      "key",
      "value",
      // information_schema._pg_expandarray (JDBC's DatabaseMetaData)
      "x",
      "n",
      // pg_options_to_table
      "option_name",
      "option_value",
      // pg_partition_tree, pg_partition_ancestors
      "relid",
      "parentrelid",
      "isleaf",
      "level",
      // pg_get_keywords
      "word",
      "catcode",
      "barelabel",
      "catdesc",
      "baredesc",
      // pg_identify_object
      "type",
      "schema",
      "name",
      "identity",
      // WITH ORDINALITY
      "ordinality",
  };
  return s.count(name) != 0;
}

bool IsSideChannelRelation(std::string_view name) {
  static const Set s = {
      "pg_authid",
      "pg_shadow",
      "pg_user_mapping",
      "pg_user_mappings",
      "pg_largeobject",
      "pg_largeobject_metadata",
      "pg_file_settings",
      "pg_hba_file_rules",
      "pg_ident_file_mappings",
      "pg_subscription",
      "pg_backend_memory_contexts",
      "pg_replication_origin_status",
      "pg_prepared_xacts",
      "pg_locks",
      "user_mapping_options",
      "_pg_user_mappings",
      "pg_db_role_setting",
      // this session's statements as the server has them (pseudonyms turned back)
      "pg_prepared_statements",
      "pg_cursors",
  };
  // pg_statistic_ext holds only the definitions of extended statistics (psql's \d reads
  // it); their values are in pg_statistic_ext_data.
  if (name == "pg_statistic_ext") return false;
  return StartsWith(name, "pg_stat") || s.count(name) != 0;
}

bool IsSystemSchema(std::string_view schema) {
  return schema == "pg_catalog" || schema == "information_schema";
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ClientMessagesLevelAllowed(std::string_view value) {
  const std::string v = Lower(value);
  return v == "notice" || v == "warning" || v == "error";
}

bool ListSpace(char c) {
  // PostgreSQL's scanner_isspace (vertical tab since version 16).
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool ValueChecked(std::string_view name) {
  return name == "client_min_messages" || name == "datestyle" || name == "search_path";
}

std::optional<ValueRefusal> CheckSettingValue(std::string_view name, std::string_view value) {
  if (name == "client_min_messages" && !ClientMessagesLevelAllowed(value)) {
    return ValueRefusal{"masked sessions may not set client_min_messages below notice",
                        "Messages below notice quote statements with the real values behind "
                        "pseudonyms. Use notice, warning or error."};
  }
  if (name == "datestyle" && !DateStyleKeepsIso(value)) {
    return ValueRefusal{"masked sessions must keep the ISO DateStyle",
                        "pgveil masks dates and timestamps in the ISO style; set the order "
                        "only, e.g. ISO, DMY."};
  }
  if (name == "search_path" && !SearchPathKeepsCatalogFirst(value)) {
    return ValueRefusal{"masked sessions may set search_path only with pg_catalog first",
                        "pgveil reads function, operator and type names as the built-ins of "
                        "pg_catalog. Leave pg_catalog and pg_temp out, e.g. search_path = crm, "
                        "public."};
  }
  return std::nullopt;
}

bool SearchPathKeepsCatalogFirst(std::string_view v) {
  auto space = ListSpace;
  size_t i = 0;
  while (i < v.size() && space(v[i])) ++i;
  if (i == v.size()) return true;  // an empty path: pg_catalog alone
  for (size_t k = 0;; ++k) {
    while (i < v.size() && space(v[i])) ++i;
    std::string name;
    if (i < v.size() && v[i] == '"') {
      for (++i;; ++i) {
        if (i >= v.size()) return false;  // unterminated
        if (v[i] == '"') {
          if (i + 1 < v.size() && v[i + 1] == '"') {
            name += '"';
            ++i;
            continue;
          }
          ++i;
          break;
        }
        name += v[i];
      }
      if (name.empty()) return false;
    } else {
      while (i < v.size() && v[i] != ',' && !space(v[i])) {
        name += static_cast<char>(std::tolower(static_cast<unsigned char>(v[i])));
        ++i;
      }
      if (name.empty()) return false;
    }
    if (name == "pg_temp" || StartsWith(name, "pg_temp_")) return false;
    if (name == "pg_catalog" && k != 0) return false;
    while (i < v.size() && space(v[i])) ++i;
    if (i == v.size()) return true;
    if (v[i] != ',') return false;
    ++i;
  }
}

bool DateStyleKeepsIso(std::string_view value) {
  std::string word;
  auto style = [&] { return word == "sql" || word == "postgres" || word == "german"; };
  for (char c : value) {
    // The server splits the list as search_path's: a quoted word ("SQL") is that word.
    if (c == ',' || c == '"' || ListSpace(c)) {
      if (style()) return false;
      word.clear();
      continue;
    }
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return !style();
}

SettingClass ClassifySetting(std::string_view name) {
  static const Set allowed = {
      "application_name",
      "client_min_messages",
      "datestyle",
      "intervalstyle",
      "timezone",
      "extra_float_digits",
      "statement_timeout",
      "lock_timeout",
      "idle_in_transaction_session_timeout",
      "idle_session_timeout",
      "work_mem",
      "temp_buffers",
      "jit",
      "random_page_cost",
      "seq_page_cost",
      "cpu_tuple_cost",
      "cpu_index_tuple_cost",
      "cpu_operator_cost",
      "effective_cache_size",
      "from_collapse_limit",
      "join_collapse_limit",
      "geqo",
      "default_transaction_isolation",
      "default_transaction_read_only",
      "default_transaction_deferrable",
      "transaction_isolation",
      "transaction_read_only",
      "transaction_deferrable",
      "bytea_output",
      "lc_monetary",
      "lc_numeric",
      "lc_time",
      "plan_cache_mode",
      "max_parallel_workers_per_gather",
      "synchronous_commit",
      "cursor_tuple_fraction",
      "constraint_exclusion",
      "escape_string_warning",
      "default_statistics_target",
      "row_security",
      "transaction",
      "session characteristics",
      "xmloption",
      "gin_fuzzy_search_limit",
      "enable_partition_pruning",
      "search_path",  // value checked: CheckSettingValue
  };
  if (StartsWith(name, "enable_") || StartsWith(name, "parallel_")) return SettingClass::kAllowed;
  return allowed.count(name) != 0 ? SettingClass::kAllowed : SettingClass::kRefused;
}

}  // namespace pgveil::guard
