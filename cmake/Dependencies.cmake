# Every third-party dependency comes from a Debian package (scripts/install-deps.sh)
# and is exposed here as one imported target named pgveil::<name>.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)

pkg_check_modules(PGVEIL_RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(PGVEIL_CRYPTOPP REQUIRED IMPORTED_TARGET libcrypto++)
pkg_check_modules(PGVEIL_PQXX REQUIRED IMPORTED_TARGET libpqxx)
pkg_check_modules(PGVEIL_PQ REQUIRED IMPORTED_TARGET libpq)

add_library(pgveil::asio INTERFACE IMPORTED)
find_path(PGVEIL_ASIO_INCLUDE asio.hpp REQUIRED)
target_include_directories(pgveil::asio INTERFACE ${PGVEIL_ASIO_INCLUDE})
target_compile_definitions(pgveil::asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(pgveil::asio INTERFACE Threads::Threads)

add_library(pgveil::re2 ALIAS PkgConfig::PGVEIL_RE2)
add_library(pgveil::cryptopp ALIAS PkgConfig::PGVEIL_CRYPTOPP)
add_library(pgveil::pq ALIAS PkgConfig::PGVEIL_PQ)
add_library(pgveil::pqxx INTERFACE IMPORTED)
target_link_libraries(pgveil::pqxx INTERFACE PkgConfig::PGVEIL_PQXX PkgConfig::PGVEIL_PQ)

find_library(PGVEIL_PG_QUERY_LIB NAMES pg_query REQUIRED)
find_path(PGVEIL_PG_QUERY_INCLUDE pg_query.h REQUIRED)
add_library(pgveil::pg_query UNKNOWN IMPORTED)
set_target_properties(pgveil::pg_query PROPERTIES
  IMPORTED_LOCATION ${PGVEIL_PG_QUERY_LIB}
  INTERFACE_INCLUDE_DIRECTORIES ${PGVEIL_PG_QUERY_INCLUDE})

# Header-only. The query guard reads libpg_query's JSON parse trees with its SAX reader:
# about 5 us for a 3 KB tree where nlohmann/json's DOM took about 40 us.
find_path(PGVEIL_RAPIDJSON_INCLUDE rapidjson/reader.h REQUIRED)
add_library(pgveil::rapidjson INTERFACE IMPORTED)
target_include_directories(pgveil::rapidjson SYSTEM INTERFACE ${PGVEIL_RAPIDJSON_INCLUDE})

if(PGVEIL_TESTS)
  find_package(GTest REQUIRED)
endif()
if(PGVEIL_BENCH)
  find_package(benchmark REQUIRED)
endif()
