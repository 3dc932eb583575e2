#ifndef CSTORELOOP_H
#define CSTORELOOP_H

/// Raw LMDB baselines, sharing no code with Custos. Each returns operations (or entries) per second,
/// or a negative number naming the step that failed.

/// Random point reads of `key_count` 8-byte big-endian keys in database `db` from `threads` threads.
double csl_lmdb_reads(const char *path, const char *db, unsigned long key_count, int threads, double seconds);

/// `count` writes of a 200-byte value, each in its own transaction (one fsync each).
double csl_lmdb_serial_writes(const char *path, const char *db, unsigned long count);

/// Walks every entry of `db` with a cursor; returns entries per second and stores the count.
double csl_lmdb_scan(const char *path, const char *db, unsigned long *entries);

#endif
