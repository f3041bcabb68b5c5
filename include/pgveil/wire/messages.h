// Typed views of PostgreSQL v3 messages. One struct per message; Parse*() functions
// validate the whole body (every inner length against the bytes left, no trailing
// garbage) and return a ProtocolError status otherwise.
//
// Lifetimes: every string_view in these structs points into the body passed to Parse*
// and lives exactly as long as that buffer.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "pgveil/status.h"

namespace pgveil::wire {

// Message type bytes. Frontend (client → server):
namespace fe {
inline constexpr char kBind = 'B', kClose = 'C', kCopyData = 'd', kCopyDone = 'c', kCopyFail = 'f',
                      kDescribe = 'D', kExecute = 'E', kFlush = 'H', kFunctionCall = 'F',
                      kParse = 'P', kPassword = 'p', kQuery = 'Q', kSync = 'S', kTerminate = 'X';
}
// Backend (server → client):
namespace be {
inline constexpr char kAuthentication = 'R', kBackendKeyData = 'K', kBindComplete = '2',
                      kCloseComplete = '3', kCommandComplete = 'C', kCopyData = 'd',
                      kCopyDone = 'c', kCopyInResponse = 'G', kCopyOutResponse = 'H',
                      kCopyBothResponse = 'W', kDataRow = 'D', kEmptyQueryResponse = 'I',
                      kErrorResponse = 'E', kFunctionCallResponse = 'V',
                      kNegotiateProtocolVersion = 'v', kNoData = 'n', kNoticeResponse = 'N',
                      kNotificationResponse = 'A', kParameterDescription = 't',
                      kParameterStatus = 'S', kParseComplete = '1', kPortalSuspended = 's',
                      kReadyForQuery = 'Z', kRowDescription = 'T';
}

// ---- Startup phase ----------------------------------------------------------------

struct StartupMessage {
  uint16_t major = 0;
  uint16_t minor = 0;
  std::vector<std::pair<std::string_view, std::string_view>> params;
  std::string_view Get(std::string_view name) const;
};
// `body` is a startup frame's body (code included).
StatusOr<StartupMessage> ParseStartupMessage(std::string_view body);

struct CancelRequest {
  int32_t pid = 0;
  std::string_view key;  // 4 bytes in protocol 3.0; up to 256 bytes from 3.2
};
StatusOr<CancelRequest> ParseCancelRequest(std::string_view body);

// ---- Backend messages ---------------------------------------------------------------

struct Authentication {
  int32_t code = 0;  // 0 ok, 3 cleartext, 5 md5, 10 SASL, 11 SASL continue, 12 SASL final
  std::string_view data;
};
StatusOr<Authentication> ParseAuthentication(std::string_view body);

struct BackendKeyData {
  int32_t pid = 0;
  std::string_view key;
};
StatusOr<BackendKeyData> ParseBackendKeyData(std::string_view body);

struct ParameterStatus {
  std::string_view name, value;
};
StatusOr<ParameterStatus> ParseParameterStatus(std::string_view body);

struct ReadyForQuery {
  char status = 'I';  // 'I' idle, 'T' in transaction, 'E' failed transaction
};
StatusOr<ReadyForQuery> ParseReadyForQuery(std::string_view body);

struct NegotiateProtocolVersion {
  int32_t newest_minor = 0;
  std::vector<std::string_view> unrecognized;
};
StatusOr<NegotiateProtocolVersion> ParseNegotiateProtocolVersion(std::string_view body);

// ErrorResponse and NoticeResponse share a body: (code byte, cstring)* then NUL.
struct NoticeFields {
  std::vector<std::pair<char, std::string_view>> fields;
  std::string_view Get(char code) const;  // empty when absent
};
StatusOr<NoticeFields> ParseNoticeFields(std::string_view body);

struct FieldDescription {
  std::string_view name;
  uint32_t table_oid = 0;
  int16_t attnum = 0;
  uint32_t type_oid = 0;
  int16_t type_len = 0;
  int32_t type_mod = 0;
  int16_t format = 0;
};
struct RowDescription {
  std::vector<FieldDescription> fields;
};
StatusOr<RowDescription> ParseRowDescription(std::string_view body);

// A DataRow's columns; nullopt is SQL NULL.
struct DataRow {
  std::vector<std::optional<std::string_view>> columns;
};
StatusOr<DataRow> ParseDataRow(std::string_view body);

struct CommandComplete {
  std::string_view tag;
};
StatusOr<CommandComplete> ParseCommandComplete(std::string_view body);

struct NotificationResponse {
  int32_t pid = 0;
  std::string_view channel, payload;
};
StatusOr<NotificationResponse> ParseNotificationResponse(std::string_view body);

// CopyInResponse, CopyOutResponse and CopyBothResponse.
struct CopyResponse {
  int8_t format = 0;  // 0 text, 1 binary
  std::vector<int16_t> column_formats;
};
StatusOr<CopyResponse> ParseCopyResponse(std::string_view body);

struct ParameterDescription {
  std::vector<uint32_t> type_oids;
};
StatusOr<ParameterDescription> ParseParameterDescription(std::string_view body);

// ---- Frontend messages --------------------------------------------------------------

struct Query {
  std::string_view sql;
};
StatusOr<Query> ParseQuery(std::string_view body);

struct Parse {
  std::string_view statement, sql;
  std::vector<uint32_t> param_types;
};
StatusOr<Parse> ParseParse(std::string_view body);

struct Bind {
  std::string_view portal, statement;
  std::vector<int16_t> param_formats;
  std::vector<std::optional<std::string_view>> params;
  std::vector<int16_t> result_formats;
};
StatusOr<Bind> ParseBind(std::string_view body);

// Describe and Close: kind 'S' (statement) or 'P' (portal).
struct Target {
  char kind = 'S';
  std::string_view name;
};
StatusOr<Target> ParseTarget(std::string_view body);

struct Execute {
  std::string_view portal;
  int32_t max_rows = 0;
};
StatusOr<Execute> ParseExecute(std::string_view body);

struct FunctionCall {
  uint32_t function_oid = 0;
  std::vector<int16_t> arg_formats;
  std::vector<std::optional<std::string_view>> args;
  int16_t result_format = 0;
};
StatusOr<FunctionCall> ParseFunctionCall(std::string_view body);

struct CopyFail {
  std::string_view message;
};
StatusOr<CopyFail> ParseCopyFail(std::string_view body);

}  // namespace pgveil::wire
