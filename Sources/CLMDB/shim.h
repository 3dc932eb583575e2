// LMDB from liblmdb-dev, linked as a system library.
#include <lmdb.h>
