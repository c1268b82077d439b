/*
 * CPython 3.11 as a WASI reactor for inline-sandbox.
 *
 * Built with -mexec-model=reactor: the host calls `_initialize` (C constructors), then
 *   pyreactor_init()               interpreter up (site, encodings, os, io imported);
 *   pyreactor_import(names, len)   optional, import more modules (comma-separated names);
 *                                  after these two the instance is a snapshot point;
 *   pyreactor_prime()              optional, on an instance restored from the snapshot, before its
 *                                  run: reseed `random` ahead of time (never before the snapshot);
 *   pyreactor_run(req, len)        once: apply the per-execution request and run the script.
 * `pyreactor_alloc` / `pyreactor_free` let the host place strings in guest memory.
 *
 * The request is a byte string of NUL-terminated fields:
 *   cwd, argc, argv[0..argc), envc, "NAME=value"[0..envc)
 * where argc/envc are decimal and argv[0] is the script path. Stdin, files and output go through the
 * WASI host; nothing in here reaches the host except through WASI imports.
 *
 * pyreactor_run returns the exit status (0..255) the real `python3 main.py` would have returned:
 * SystemExit is handled here (never exit()), an uncaught exception prints its traceback and gives 1,
 * with bit 0x100 set when that exception was a MemoryError caused by a failed allocation (the memory
 * cap). A negative value means the interpreter could not run the script at all (a host fault).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT(name) __attribute__((export_name(name)))

static int initialized = 0;
static int primed = 0;
static int ran = 0;

/*
 * Allocation failures are counted by wrapping the interpreter's allocators (each wrapper calls the
 * allocator it replaced). An uncaught MemoryError is reported as the memory limit only when an
 * allocation really failed: the parser's "too deeply nested" MemoryError is an ordinary error.
 */
static int allocation_failed = 0;
static PyMemAllocatorEx wrapped[3];

static void *counting_malloc(void *ctx, size_t size) {
  PyMemAllocatorEx *inner = ctx;
  void *p = inner->malloc(inner->ctx, size);
  if (!p && size) allocation_failed = 1;
  return p;
}

static void *counting_calloc(void *ctx, size_t nelem, size_t elsize) {
  PyMemAllocatorEx *inner = ctx;
  void *p = inner->calloc(inner->ctx, nelem, elsize);
  if (!p && nelem && elsize) allocation_failed = 1;
  return p;
}

static void *counting_realloc(void *ctx, void *ptr, size_t size) {
  PyMemAllocatorEx *inner = ctx;
  void *p = inner->realloc(inner->ctx, ptr, size);
  if (!p && size) allocation_failed = 1;
  return p;
}

static void counting_free(void *ctx, void *ptr) {
  PyMemAllocatorEx *inner = ctx;
  inner->free(inner->ctx, ptr);
}

static void count_allocation_failures(void) {
  static const PyMemAllocatorDomain domains[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
  for (int i = 0; i < 3; i++) {
    PyMem_GetAllocator(domains[i], &wrapped[i]);
    PyMemAllocatorEx counting = {&wrapped[i], counting_malloc, counting_calloc, counting_realloc, counting_free};
    PyMem_SetAllocator(domains[i], &counting);
  }
}

EXPORT("pyreactor_alloc") void *pyreactor_alloc(size_t size) { return malloc(size ? size : 1); }

EXPORT("pyreactor_free") void pyreactor_free(void *ptr) { free(ptr); }

static int status_from_config(PyStatus status) {
  if (PyStatus_Exception(status)) {
    if (status.err_msg) fprintf(stderr, "pyreactor: %s\n", status.err_msg);
    return -1;
  }
  return 0;
}

/* Imported at init whatever the host preloads: apply_env and finish need them. */
static const char *const PRELOAD[] = {"encodings", "os", "io", "atexit", NULL};

EXPORT("pyreactor_init") int pyreactor_init(void) {
  if (initialized) return -1;
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  /* Interpreter flags never come from the guest's environment (which is empty at init anyway). */
  config.use_environment = 0;
  config.user_site_directory = 0;
  config.pathconfig_warnings = 0;
  config.install_signal_handlers = 0;
  config.parse_argv = 0;
  config.buffered_stdio = 1;
  config.write_bytecode = 0;
  config.safe_path = 1; /* sys.path[0] is set per run to the script's directory */
  config.module_search_paths_set = 1;
  PyStatus status = PyWideStringList_Append(&config.module_search_paths, L"/usr/local/lib/python311.zip");
  if (!PyStatus_Exception(status)) status = PyConfig_SetString(&config, &config.home, L"/usr/local");
  if (!PyStatus_Exception(status))
    status = PyConfig_SetString(&config, &config.program_name, L"/usr/local/bin/python3");
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (status_from_config(status) != 0) return -1;
  count_allocation_failures();
  for (const char *const *name = PRELOAD; *name; name++) {
    PyObject *mod = PyImport_ImportModule(*name);
    if (!mod) {
      PyErr_Print();
      return -1;
    }
    Py_DECREF(mod);
  }
  initialized = 1;
  return 0;
}

/* Import each module of a comma-separated list; 0 when all imported. */
EXPORT("pyreactor_import") int pyreactor_import(const char *names, size_t length) {
  if (!initialized || !names) return -1;
  char *copy = strndup(names, length);
  if (!copy) return -1;
  int rc = 0;
  for (char *save = NULL, *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    PyObject *mod = PyImport_ImportModule(name);
    if (!mod) {
      PyErr_Print();
      rc = -1;
      break;
    }
    Py_DECREF(mod);
  }
  free(copy);
  return rc;
}

/* Read one NUL-terminated field; returns NULL when the request is malformed. */
static const char *next_field(const char **cursor, const char *end) {
  const char *start = *cursor;
  const char *nul = memchr(start, '\0', (size_t)(end - start));
  if (!nul) return NULL;
  *cursor = nul + 1;
  return start;
}

/* A decimal number from 0 to `max`; -1 when the field is anything else. */
static long parse_count(const char *text, long max) {
  char *stop = NULL;
  errno = 0;
  long value = strtol(text, &stop, 10);
  if (errno || stop == text || *stop != '\0' || value < 0 || value > max) return -1;
  return value;
}

/* The most arguments, and the most environment variables, a request may carry. */
#define MAX_FIELD_COUNT 65536

/*
 * A module pyreactor_init imported, from sys.modules (new reference; NULL with an exception if it is
 * gone): PyImport_ImportModule's trip through __import__ costs a run ~10 us each time. Only before
 * the script runs: after it, sys.modules is the guest's to change (finish imports atexit the usual
 * way, so deleting it from sys.modules does not skip the exit handlers).
 */
static PyObject *imported(const char *name) {
  PyObject *key = PyUnicode_FromString(name);
  PyObject *module = key ? PyImport_GetModule(key) : NULL;
  Py_XDECREF(key);
  if (!module && !PyErr_Occurred()) PyErr_Format(PyExc_ImportError, "%s is not imported", name);
  return module;
}

/*
 * os.path.dirname(path) for a POSIX path, in C (the call into posixpath costs a run ~15 us): up to
 * the last '/', without trailing slashes unless that is all there is; "" when there is no '/'.
 */
static PyObject *script_directory(const char *path) {
  const char *slash = strrchr(path, '/');
  size_t length = slash ? (size_t)(slash - path) + 1 : 0;
  size_t kept = length;
  while (kept > 0 && path[kept - 1] == '/') kept--;
  if (kept > 0) length = kept;
  return PyUnicode_DecodeFSDefaultAndSize(path, (Py_ssize_t)length);
}

/* sys.argv = argv; sys.path[0] = dirname(argv[0]) as `python3 main.py` does. */
static int apply_argv(const char **cursor, const char *end) {
  const char *count = next_field(cursor, end);
  long argc = count ? parse_count(count, MAX_FIELD_COUNT) : -1;
  if (argc < 1) return -1;
  PyObject *list = PyList_New(0);
  if (!list) return -1;
  const char *script = NULL;
  for (long i = 0; i < argc; i++) {
    const char *arg = next_field(cursor, end);
    if (i == 0) script = arg;
    PyObject *item = arg ? PyUnicode_DecodeFSDefault(arg) : NULL;
    if (!item || PyList_Append(list, item) != 0) {
      Py_XDECREF(item);
      Py_DECREF(list);
      return -1;
    }
    Py_DECREF(item);
  }
  int rc = PySys_SetObject("argv", list);
  PyObject *path = PySys_GetObject("path"); /* borrowed */
  PyObject *dir = rc == 0 ? script_directory(script) : NULL;
  if (!dir || !path || PyList_Insert(path, 0, dir) != 0) rc = -1;
  Py_XDECREF(dir);
  Py_DECREF(list);
  return rc;
}

/* Replace the process environment, in libc and in os.environ, with exactly the request's pairs. */
static int apply_env(const char **cursor, const char *end) {
  const char *count = next_field(cursor, end);
  long envc = count ? parse_count(count, MAX_FIELD_COUNT) : -1;
  if (envc < 0) return -1;
  PyObject *os = imported("os");
  PyObject *environ = os ? PyObject_GetAttrString(os, "environ") : NULL;
  /* Empty in a restored snapshot (WASI's environment is empty at boot): clear() walks
     MutableMapping.popitem in Python, ~10 us even then. */
  Py_ssize_t size = environ ? PyObject_Size(environ) : -1;
  PyObject *cleared = size > 0 ? PyObject_CallMethod(environ, "clear", NULL) : NULL;
  int rc = size == 0 || cleared ? 0 : -1;
  Py_XDECREF(cleared);
  for (long i = 0; rc == 0 && i < envc; i++) {
    const char *pair = next_field(cursor, end);
    const char *eq = pair ? strchr(pair, '=') : NULL;
    if (!eq || eq == pair) {
      rc = -1;
      break;
    }
    PyObject *key = PyUnicode_DecodeFSDefaultAndSize(pair, eq - pair);
    PyObject *value = PyUnicode_DecodeFSDefault(eq + 1);
    if (!key || !value || PyObject_SetItem(environ, key, value) != 0) rc = -1;
    Py_XDECREF(key);
    Py_XDECREF(value);
  }
  Py_XDECREF(environ);
  Py_XDECREF(os);
  return rc;
}

/* A module imported at init (a snapshot) would share its PRNG stream: reseed from WASI random_get. */
static int reseed_random(void) {
  PyObject *modules = PyImport_GetModuleDict();
  PyObject *random = PyDict_GetItemString(modules, "random"); /* borrowed */
  if (!random) return 0;
  PyObject *done = PyObject_CallMethod(random, "seed", NULL);
  Py_XDECREF(done);
  return done ? 0 : -1;
}

/*
 * The per-instance work that does not depend on the request, done while the instance waits for it:
 * reseeding `random` asks the host for 2,496 bytes in ten random_get calls (wasi-libc's getentropy
 * gives at most 256 at a time), ~0.1 of a run's ~0.3 ms. Called on a restored instance only: a
 * snapshot taken after it would hand every instance the same stream again.
 */
EXPORT("pyreactor_prime") int pyreactor_prime(void) {
  if (!initialized || primed || ran) return -1;
  if (reseed_random() != 0) {
    PyErr_Clear();
    return -1;
  }
  primed = 1;
  return 0;
}

/* The exit status for a pending SystemExit, printing its message as python3 does. */
static int exit_status_from_system_exit(void) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  int status = 0;
  PyObject *code = value ? PyObject_GetAttrString(value, "code") : NULL;
  if (!code) {
    PyErr_Clear();
  } else if (code == Py_None) {
    status = 0;
  } else if (PyLong_Check(code)) {
    long n = PyLong_AsLong(code);
    if (n == -1 && PyErr_Occurred()) {
      PyErr_Clear();
      n = 1;
    }
    status = (int)(n & 0xff);
  } else {
    PyObject *sys_stderr = PySys_GetObject("stderr");
    if (sys_stderr && sys_stderr != Py_None) {
      PyFile_WriteObject(code, sys_stderr, Py_PRINT_RAW);
      PyFile_WriteString("\n", sys_stderr);
    }
    PyErr_Clear();
    status = 1;
  }
  Py_XDECREF(code);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  return status;
}

/*
 * Status after the script raised: SystemExit gives its code, anything else a traceback and 1.
 * An uncaught MemoryError after a failed allocation adds PYREACTOR_MEMORY_ERROR, so the host can
 * report the memory limit.
 */
#define PYREACTOR_MEMORY_ERROR 0x100
static int status_from_exception(void) {
  if (PyErr_ExceptionMatches(PyExc_SystemExit)) return exit_status_from_system_exit();
  int flags = PyErr_ExceptionMatches(PyExc_MemoryError) && allocation_failed ? PYREACTOR_MEMORY_ERROR : 0;
  PyErr_Print(); /* calls sys.excepthook, which formats the traceback naming /workspace/main.py */
  return 1 | flags;
}

/* Whether one of the first two lines has "coding" after a '#': every PEP 263 declaration does. */
static int may_declare_encoding(const char *source, size_t length) {
  const char *line = source;
  const char *end = source + length;
  for (int i = 0; i < 2 && line < end; i++) {
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    if (!eol) eol = end;
    const char *hash = memchr(line, '#', (size_t)(eol - line));
    for (const char *at = hash; at && eol - at >= 6; at++) {
      if (memcmp(at, "coding", 6) == 0) return 1;
    }
    line = eol + 1;
  }
  return 0;
}

/*
 * Runs the script at `path` as `python3 path` would. `source` (NUL right after `source_length`
 * bytes), when the request carried it, is that file's content: compiled from memory, which spares a
 * run the fopen, reads and close of the file through the host (~0.05 ms of a ~0.2 ms `print(1)`).
 * Compiling a string honours a BOM like a file does, and tracebacks still read their lines from the
 * file. Source holding a NUL, or that may declare its encoding (PEP 263), goes through the file: a
 * string's declaration is honoured too, but one Python does not know is reported differently
 * ("File ..., line 0 / unknown encoding" against python3's "encoding problem").
 */
static int run_script(const char *path, const char *source, size_t source_length) {
  PyObject *main_module = PyImport_AddModule("__main__"); /* borrowed */
  if (!main_module) return -1;
  PyObject *globals = PyModule_GetDict(main_module);
  PyObject *file = PyUnicode_DecodeFSDefault(path);
  if (!file || PyDict_SetItemString(globals, "__file__", file) != 0 ||
      PyDict_SetItemString(globals, "__cached__", Py_None) != 0) {
    Py_XDECREF(file);
    return -1;
  }
  Py_DECREF(file);
  PyCompilerFlags flags = _PyCompilerFlags_INIT;
  PyObject *result;
  if (source && !memchr(source, '\0', source_length) && !may_declare_encoding(source, source_length)) {
    PyObject *code = Py_CompileStringExFlags(source, path, Py_file_input, &flags, -1);
    result = code ? PyEval_EvalCode(code, globals, globals) : NULL;
    Py_XDECREF(code);
  } else {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
      fprintf(stderr, "python3: can't open file '%s': [Errno %d] %s\n", path, errno, strerror(errno));
      return 2;
    }
    result = PyRun_FileExFlags(fp, path, Py_file_input, globals, globals, 1, &flags);
  }
  if (result) {
    Py_DECREF(result);
    return 0;
  }
  return status_from_exception();
}

/* atexit handlers, then flush sys.stdout/sys.stderr; a failing flush turns 0 into 120 as in python3. */
static int finish(int status) {
  PyObject *atexit = PyImport_ImportModule("atexit");
  PyObject *done = atexit ? PyObject_CallMethod(atexit, "_run_exitfuncs", NULL) : NULL;
  if (!done) PyErr_Clear();
  Py_XDECREF(done);
  Py_XDECREF(atexit);
  static const char *const streams[] = {"stdout", "stderr"};
  for (int i = 0; i < 2; i++) {
    PyObject *stream = PySys_GetObject(streams[i]);
    if (!stream || stream == Py_None) continue;
    PyObject *flushed = PyObject_CallMethod(stream, "flush", NULL);
    if (!flushed) {
      if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        status = exit_status_from_system_exit();
      } else {
        PyErr_Clear();
        if (status == 0) status = 120;
      }
    }
    Py_XDECREF(flushed);
  }
  return status;
}

EXPORT("pyreactor_run") int pyreactor_run(const char *request, size_t length) {
  if (!initialized || ran || !request) return -1;
  ran = 1; /* an instance runs exactly one execution */
  allocation_failed = 0;
  const char *cursor = request;
  const char *end = request + length;
  const char *cwd = next_field(&cursor, end);
  if (!cwd || chdir(cwd) != 0) {
    fprintf(stderr, "pyreactor: cannot enter the working directory\n");
    return -1;
  }
  const char *script = NULL;
  const char *argc_field = cursor;
  if (next_field(&argc_field, end)) script = argc_field; /* argv[0] follows argc */
  if (apply_argv(&cursor, end) != 0 || apply_env(&cursor, end) != 0 || (!primed && reseed_random() != 0)) {
    if (PyErr_Occurred()) PyErr_Print();
    return -1;
  }
  /* Optional: the script's source, as its length and the bytes, NUL-terminated (guest.ts). */
  const char *source = NULL;
  size_t source_length = 0;
  if (cursor < end) {
    const char *length_field = next_field(&cursor, end);
    /* No bound of its own: it must match what is left of the request. */
    long length = length_field ? parse_count(length_field, LONG_MAX) : -1;
    if (length < 0 || (size_t)(end - cursor) != (size_t)length + 1 || cursor[length] != '\0') {
      fprintf(stderr, "pyreactor: malformed source in the run request\n");
      return -1;
    }
    source = cursor;
    source_length = (size_t)length;
  }
  int status = run_script(script, source, source_length);
  if (status < 0) {
    if (PyErr_Occurred()) PyErr_Print();
    return status;
  }
  return finish(status & 0xff) | (status & PYREACTOR_MEMORY_ERROR);
}
