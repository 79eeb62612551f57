/*
 * Found first on the include path of the plain modules (core, token,
 * rules, vault): they are functions on buffers and must not use libuv.
 * Only pipeline/, source/, sink/ and daemon/ may include <uv.h>.
 */
#error "libuv is for src/{pipeline,source,sink,daemon} only"
