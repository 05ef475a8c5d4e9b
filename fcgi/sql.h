/* sql.h: the SQL files of sql/, embedded at build time by sql/embed.awk. */
#ifndef PP_SQL_H
#define PP_SQL_H

extern const char sql_schema[];		/* sql/schema.sql */
extern const char sql_increment[];	/* sql/increment.sql: $1 = how many */
extern const char sql_read[];		/* sql/read.sql */
extern const char sql_durability[];	/* sql/durability.sql */
extern const char sql_widen[];		/* sql/widen.sql: --migrate widen */
extern const char sql_continuity[];	/* sql/continuity.sql */

#endif
