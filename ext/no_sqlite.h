// Force-included (-include) into the libraries that must not know SQLite (codecs/, tiering/;
// CMakeLists.txt): it defines the include guards of sqlite3.h and sqlite3ext.h, so including either
// brings in nothing and any use of SQLite's API there fails to compile. The layering rule
// "codecs/ and tiering/ know no SQLite" is a build rule, not a convention.
#pragma once

#define SQLITE3_H
#define SQLITE3EXT_H
#define STRATA_NO_SQLITE 1
