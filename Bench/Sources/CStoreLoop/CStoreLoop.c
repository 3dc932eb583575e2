#include "CStoreLoop.h"

#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int open_env(const char *path, MDB_env **env) {
    if (mdb_env_create(env)) return -1;
    mdb_env_set_maxdbs(*env, 16);
    mdb_env_set_mapsize(*env, (size_t)8 << 30);
    if (mdb_env_open(*env, path, MDB_NOTLS, 0600)) return -2;
    return 0;
}

static int open_db(MDB_env *env, const char *db, unsigned flags, MDB_dbi *dbi) {
    MDB_txn *txn;
    if (mdb_txn_begin(env, NULL, flags & MDB_RDONLY, &txn)) return -3;
    if (mdb_dbi_open(txn, db, flags & ~MDB_RDONLY, dbi)) { mdb_txn_abort(txn); return -4; }
    return mdb_txn_commit(txn) ? -5 : 0;
}

struct reader { MDB_env *env; MDB_dbi dbi; unsigned long keys; double deadline; unsigned long done; unsigned seed; };

static void *read_loop(void *arg) {
    struct reader *r = arg;
    while (now() < r->deadline) {
        MDB_txn *txn;
        if (mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn)) return NULL;
        uint64_t index = (uint64_t)rand_r(&r->seed) % r->keys;
        unsigned char key[8];
        for (int i = 0; i < 8; i++) key[i] = (unsigned char)(index >> (56 - 8 * i));
        MDB_val k = {8, key}, v;
        if (mdb_get(txn, r->dbi, &k, &v) == 0) r->done++;
        mdb_txn_abort(txn);
    }
    return NULL;
}

double csl_lmdb_reads(const char *path, const char *db, unsigned long key_count, int threads, double seconds) {
    MDB_env *env;
    MDB_dbi dbi;
    int rc = open_env(path, &env);
    if (rc) return rc;
    if ((rc = open_db(env, db, MDB_RDONLY, &dbi))) return rc;
    struct reader readers[16];
    pthread_t ids[16];
    double start = now();
    for (int i = 0; i < threads && i < 16; i++) {
        readers[i] = (struct reader){env, dbi, key_count, start + seconds, 0, (unsigned)i + 1};
        pthread_create(&ids[i], NULL, read_loop, &readers[i]);
    }
    unsigned long total = 0;
    for (int i = 0; i < threads && i < 16; i++) { pthread_join(ids[i], NULL); total += readers[i].done; }
    double elapsed = now() - start;
    mdb_env_close(env);
    return (double)total / elapsed;
}

double csl_lmdb_serial_writes(const char *path, const char *db, unsigned long count) {
    MDB_env *env;
    MDB_dbi dbi;
    int rc = open_env(path, &env);
    if (rc) return rc;
    if ((rc = open_db(env, db, MDB_CREATE, &dbi))) return rc;
    unsigned char value[200];
    memset(value, 7, sizeof(value));
    double start = now();
    for (unsigned long n = 0; n < count; n++) {
        MDB_txn *txn;
        if (mdb_txn_begin(env, NULL, 0, &txn)) return -6;
        unsigned char key[8];
        for (int i = 0; i < 8; i++) key[i] = (unsigned char)(n >> (56 - 8 * i));
        MDB_val k = {8, key}, v = {sizeof(value), value};
        if (mdb_put(txn, dbi, &k, &v, 0)) { mdb_txn_abort(txn); return -7; }
        if (mdb_txn_commit(txn)) return -8;
    }
    double elapsed = now() - start;
    mdb_env_close(env);
    return (double)count / elapsed;
}

double csl_lmdb_scan(const char *path, const char *db, unsigned long *entries) {
    MDB_env *env;
    MDB_dbi dbi;
    int rc = open_env(path, &env);
    if (rc) return rc;
    if ((rc = open_db(env, db, MDB_RDONLY, &dbi))) return rc;
    MDB_txn *txn;
    MDB_cursor *cursor;
    MDB_val k, v;
    double start = now();
    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    mdb_cursor_open(txn, dbi, &cursor);
    unsigned long n = 0;
    size_t bytes = 0;
    while (mdb_cursor_get(cursor, &k, &v, n ? MDB_NEXT : MDB_FIRST) == 0) { n++; bytes += k.mv_size + v.mv_size; }
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
    double elapsed = now() - start;
    mdb_env_close(env);
    *entries = n + (bytes == 0);  // keep `bytes` live so the walk touches the data
    return (double)n / elapsed;
}
