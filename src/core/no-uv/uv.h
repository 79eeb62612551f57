/*
 * Found first on the include path of the plain modules (core, token,
 * rules, vault) and of the CLI: they never touch the event loop. Only
 * pipeline/, source/, sink/ and daemon/ may include <uv.h>.
 */
#error "libuv is for src/{pipeline,source,sink,daemon} only"
