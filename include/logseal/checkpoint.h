/*
 * logseal — source checkpoints: which input bytes are safely in output.
 *
 * One small text file per source in the state directory, replaced
 * atomically (write tmp, fsync, rename, fsync dir) in the commit job after
 * the output holding those bytes is fsynced. It names both ends: the input
 * file (device, inode, a fingerprint of its first bytes, one of the bytes
 * just before the offset, its mtime as last seen, the offset) and the
 * sink's durable state (for segments: the .part path and its committed
 * length; a sink whose state lives elsewhere, e.g. in a transaction, puts
 * its own reference there). After a crash the daemon cuts the segment back
 * to that length and re-reads input from that offset: nothing lost,
 * nothing repeated.
 *
 * Since version 5 the fingerprints (hashes of raw log bytes) are sealed
 * with the host's checkpoint key, and the rest of the text authenticated
 * with them: see src/core/ckptkey.c.
 */
#ifndef LOGSEAL_CHECKPOINT_H
#define LOGSEAL_CHECKPOINT_H

#include <limits.h>
#include "logseal/common.h"

#define LSL_FP_BYTES   16   /* fingerprint: BLAKE2b-128 ... */
#define LSL_FP_SPAN    1024 /* ... of the first min(size, 1024) bytes */
#define LSL_CKPT_DONE  4    /* files read to their end, remembered */
#define LSL_CKPT_HEADS 16   /* line ends of the head with a fingerprint */

struct lsl_file_id {
    uint64_t dev;
    uint64_t ino;
    /* Birth time (statx), 0 where the file system has none: a reused
     * inode is a new file even with the same first bytes. */
    int64_t btime_ns;
    uint32_t fp_len; /* bytes the fingerprint covers */
    uint8_t fp[LSL_FP_BYTES];
};

/*
 * Fingerprints of a file's first `len` bytes for the first line ends
 * inside its fingerprinted head (shorter than it): a copytruncate copy
 * taken while the file was shorter than that head is recognized by them
 * after a restart, when the head's bytes are no longer known.
 */
struct lsl_head_marks {
    unsigned n;
    struct {
        uint32_t len;
        uint8_t fp[LSL_FP_BYTES];
    } v[LSL_CKPT_HEADS];
};

struct lsl_checkpoint {
    struct lsl_file_id file;
    /* The file's mtime when last looked at (ns since the epoch): every
     * rotation written after it may hold lines not read yet. */
    int64_t mtime_ns;
    /* Fingerprint of the end_len (<= LSL_FP_SPAN) bytes before `offset`:
     * a new file on a reused inode with the same first bytes still
     * differs there. */
    uint32_t end_len;
    uint8_t end_fp[LSL_FP_BYTES];
    uint64_t offset; /* input bytes committed */
    bool in_line;    /* offset is inside an overlong line (pieces) */
    /* The file had no name left (deleted) when checkpointed: it cannot be
     * copied and truncated since, so a file with its first bytes found
     * later is a new file, never its copy. */
    bool deleted;
    struct lsl_head_marks heads; /* of `file` */
    /* The last files read to their end before `file`: never read again,
     * even when a late write makes them look newer. */
    struct lsl_file_id done[LSL_CKPT_DONE];
    unsigned ndone;
    char segment[PATH_MAX]; /* current .part, "" if none open */
    uint64_t segment_len;   /* its committed length */
    uint64_t lines;         /* lines committed, for operators */
    bool sealed;  /* parsed from a sealed text (version 5 on); not saved */
    bool old_key; /* ... sealed with the previous key (path.old) */
};

/* ---- the checkpoint key (KEYS/checkpoint.key) ---- */

#define LSL_CKPT_KEY_FILE "checkpoint.key"
#define LSL_CKPT_KEY_OLD  ".old" /* the key a rotation replaced: path.old */
#define LSL_CKPT_KID_LEN  16     /* hex characters of a key id */

struct lsl_ckpt_key; /* sodium_malloc'd; wiped when freed */

/*
 * Load the key at `path` (mode 0600, owned by us, refused wider); with
 * `create`, make a new one there first if there is none (*created then
 * says so; may be NULL). The key a rotation replaced, `path.old`, is
 * loaded too if it exists, under the same rules: checkpoints that name it
 * still open (cp->old_key), and are sealed with the current key when
 * saved. 0, -ENOENT, LSL_EKEYPERM, LSL_EKEYOWNER, LSL_EFORMAT, -errno.
 */
LSL_MUST_CHECK int lsl_ckpt_key_open(const char *path, bool create,
                                     struct lsl_ckpt_key **out, bool *created);
void lsl_ckpt_key_free(struct lsl_ckpt_key *k);
/* Its id: LSL_CKPT_KID_LEN hex characters, which checkpoints name. */
const char *lsl_ckpt_key_id(const struct lsl_ckpt_key *k);
/* The id of path.old, or NULL if there was none. */
const char *lsl_ckpt_key_prev_id(const struct lsl_ckpt_key *k);

/*
 * Rotate the key at `path`: it becomes path.old and a new key takes its
 * place, durably, with path holding a key at every moment. Their ids into
 * old_id and new_id. -EEXIST if path.old exists (a rotation not finished:
 * checkpoints may still need it), the errors of lsl_ckpt_key_open
 * (-ENOENT: no key to rotate), -errno.
 */
LSL_MUST_CHECK int lsl_ckpt_key_rotate(const char *path,
                                       char old_id[LSL_CKPT_KID_LEN + 1],
                                       char new_id[LSL_CKPT_KID_LEN + 1]);

/*
 * Load state_dir/<source>.ckpt. 0, -ENOENT if none, LSL_ECORRUPT,
 * LSL_EVERSION, and for a sealed one LSL_ENOKEY (key NULL),
 * LSL_EOTHERKEY (sealed with another key) or LSL_EAUTH (altered, or
 * another source's). Unsealed versions 1-4 are still read (cp->sealed
 * false). A version 1 file (no mtime, end fingerprint, in_line) is read
 * with mtime_ns taken from the checkpoint file itself (and no done files).
 */
LSL_MUST_CHECK int lsl_checkpoint_load(const char *state_dir,
                                       const char *source,
                                       const struct lsl_ckpt_key *key,
                                       struct lsl_checkpoint *cp);

/* Replace it atomically and durably, sealed with `key`. 0 or -errno. */
LSL_MUST_CHECK int lsl_checkpoint_save(const char *state_dir,
                                       const char *source,
                                       const struct lsl_ckpt_key *key,
                                       const struct lsl_checkpoint *cp);

/*
 * The checkpoint of `source` as the text lsl_checkpoint_save writes (a
 * sink that keeps it elsewhere, e.g. inside a Kafka transaction, stores
 * these bytes), sealed with `key`: into `text` of `cap` bytes, its length
 * in *len. The text opens only under the same `source` string, so a sink
 * may bind more to it (Kafka: the source and its record's transaction
 * tag). 0, -EINVAL (no key, or a newline in cp->segment), -ENAMETOOLONG
 * (cap too small; LSL_CKPT_TEXT_MAX is always enough) or -ENOMEM.
 */
#define LSL_CKPT_TEXT_MAX (PATH_MAX + 4096)
LSL_MUST_CHECK int lsl_checkpoint_format(const struct lsl_checkpoint *cp,
                                         const char *source,
                                         const struct lsl_ckpt_key *key,
                                         char *text, size_t cap, size_t *len);

/* True if a and b say the same (every field that is saved). */
bool lsl_checkpoint_same(const struct lsl_checkpoint *a,
                         const struct lsl_checkpoint *b);

/* Parse such text (borrowed) of `source`; errors as lsl_checkpoint_load,
 * and -ENOMEM. */
LSL_MUST_CHECK int lsl_checkpoint_parse(const char *text, size_t len,
                                        const char *source,
                                        const struct lsl_ckpt_key *key,
                                        struct lsl_checkpoint *cp);

/*
 * Identify an open file: dev/ino from fstat, its birth time where known,
 * and the fingerprint of its first min(size, LSL_FP_SPAN) bytes (pread;
 * does not move the offset).
 */
LSL_MUST_CHECK int lsl_file_id_get(int fd, struct lsl_file_id *id);

/*
 * True if `now` is the same file as `then`: same dev/ino (and birth time
 * when both are known), and the first then->fp_len bytes of `now` still
 * hash to then->fp (so a reused inode or a rewritten file is not taken
 * for the old one).
 */
bool lsl_file_id_same(int fd_now, const struct lsl_file_id *then);

/*
 * True if the first then->fp_len bytes of `fd_now` hash to then->fp,
 * whatever its inode: recognizes a copy of the file (copytruncate).
 * Meaningless when then->fp_len is 0 (every file matches).
 */
bool lsl_file_fp_same(int fd_now, const struct lsl_file_id *then);

/* The fingerprint of `len` bytes in memory (len <= LSL_FP_SPAN). */
void lsl_fp_of(const void *p, size_t len, uint8_t out[LSL_FP_BYTES]);

/* The head marks of a file whose first `len` bytes are `head`. */
void lsl_head_marks_of(const uint8_t *head, size_t len,
                       struct lsl_head_marks *out);

/*
 * True if the first `size` bytes of `fd` are cp->file's first `size`
 * bytes, as far as the checkpoint tells: by its fingerprint (the first
 * fp_len bytes) when size >= fp_len, else by a head mark of exactly that
 * length. False when nothing tells (size 0, or no such mark).
 */
bool lsl_checkpoint_head_same(int fd, uint64_t size,
                              const struct lsl_checkpoint *cp);

/*
 * Fingerprint the min(offset, LSL_FP_SPAN) bytes of `fd` before `offset`
 * into cp->end_len / cp->end_fp. 0, LSL_ETRUNC (the file is shorter) or
 * -errno.
 */
LSL_MUST_CHECK int lsl_checkpoint_end_get(int fd, struct lsl_checkpoint *cp);

/* True if `fd` holds cp->end_len bytes before cp->offset hashing to
 * cp->end_fp (true when end_len is 0). */
bool lsl_checkpoint_end_same(int fd, const struct lsl_checkpoint *cp);

#endif
