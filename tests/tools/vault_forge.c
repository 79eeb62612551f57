/*
 * A hostile vault writer for the integration tests: it holds what anyone
 * holds who can read the daemon's public files, vault.pub, and nothing
 * else (no hash key, no writer secret), and writes a well-formed vault
 * file with the library's own writer:
 *
 *   vault_forge OUT.lsv VAULT.pub EPOCH TOKEN VALUE [LIKE.lsv]
 *
 * maps TOKEN (a real token read in pseudonymized output) to VALUE (another
 * person's address), with a SEEN record stretching its time range. The
 * verification key and writer secret it seals are random: it cannot know
 * the real ones. With LIKE.lsv it copies that file's plaintext chain
 * fields (writer id, seq, previous id, id, created), to pass for it once
 * the real one is deleted. Exit 0 when the file was written.
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "logseal/file.h"
#include "src/vault/vault_internal.h"

static int like(const char *path, struct lsl_vault_hdr *h)
{
    uint8_t ad[LSL_VAULT_AD_BYTES];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = fd < 0 ? -errno : lsl_read_exact(fd, ad, sizeof(ad));

    if (fd >= 0)
        close(fd);
    return rc ? rc : lsl_vault_hdr_decode(ad, h);
}

static int forge(char **argv, int argc)
{
    uint8_t pk[LSL_VAULT_PUBKEY_BYTES], vkey[LSL_VKEY_BYTES], ws[32];
    struct lsl_vault_writer_opts o;
    struct lsl_vault_writer *w = NULL;
    struct lsl_vault_hdr h;
    struct lsl_vault_record seen = {.type = LSL_VAULT_REC_SEEN};
    struct lsl_mapping m = {.first_seen = 1764400000, .last_seen = 1764400000};
    bool is_new;
    int rc;

    if (lsl_vault_pubkey_load(argv[2], pk) ||
        lsl_token_parse(argv[4], strlen(argv[4]), &m.tok))
        return 2;
    randombytes_buf(vkey, sizeof(vkey));
    randombytes_buf(ws, sizeof(ws));
    lsl_vault_writer_opts_init(&o);
    o.path = argv[1];
    o.pubkey = pk;
    o.source = "daemon";
    o.epoch = (uint32_t)strtoul(argv[3], NULL, 10);
    o.vkey = vkey;
    o.wsecret = ws;
    if (argc == 7) {
        if (like(argv[6], &h))
            return 2;
        o.link = &h.link;
        o.created = h.created;
        o.epoch_len = h.epoch_len;
    }
    m.value = (struct lsl_span){argv[5], strlen(argv[5])};
    seen.tok = m.tok;
    seen.first_seen = 1700000000;
    seen.last_seen = 1800000000;
    rc = lsl_vault_writer_open(&w, &o);
    if (rc == 0)
        rc = lsl_vault_writer_add(w, &m, &is_new);
    if (rc == 0)
        rc = lsl_vault_writer_put(w, &seen);
    if (w) {
        int crc = lsl_vault_writer_close(w);

        rc = rc ? rc : crc;
    }
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if ((argc != 6 && argc != 7) || sodium_init() < 0) {
        fprintf(stderr, "usage: vault_forge OUT.lsv VAULT.pub EPOCH TOKEN "
                        "VALUE [LIKE.lsv]\n");
        return 2;
    }
    return forge(argv, argc);
}
