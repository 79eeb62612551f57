/*
 * Test tool: read topics of a Kafka cluster from their beginning to their
 * end with isolation.level=read_committed and print every record, one per
 * line, tab-separated:
 *
 *   TOPIC PARTITION OFFSET KEY HEADERS VALUE
 *
 * HEADERS is "name=value;..."; KEY is "-" when there is none; backslash,
 * tab and newline in any field are written \\, \t, \n. The test decides
 * from the lsl.txn headers and the checkpoint records which transactions
 * reached their commit point (see the README, "Kafka": the mock cluster
 * does not hide aborted transactions).
 *
 * usage: kafka_read BOOTSTRAP TOPIC...   (exit 2 if the end was not
 * reached within 30 s)
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void put(const void *p, size_t len)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\')
            fputs("\\\\", stdout);
        else if (s[i] == '\t')
            fputs("\\t", stdout);
        else if (s[i] == '\n')
            fputs("\\n", stdout);
        else
            putchar(s[i]);
    }
}

static void print(const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h = NULL;
    const char *name;
    const void *val;
    size_t vlen;

    printf("%s\t%d\t%lld\t", rd_kafka_topic_name(m->rkt), (int)m->partition,
           (long long)m->offset);
    if (m->key)
        put(m->key, m->key_len);
    else
        putchar('-');
    putchar('\t');
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &val, &vlen);
             i++) {
            printf("%s%s=", i ? ";" : "", name);
            put(val, vlen);
        }
    }
    putchar('\t');
    put(m->payload, m->len);
    putchar('\n');
}

static int assign(rd_kafka_t *rk, char **topics, int n)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    int parts = 0;

    for (int t = 0; t < n; t++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topics[t], NULL);
        const struct rd_kafka_metadata *md;

        if (rd_kafka_metadata(rk, 0, rkt, &md, 10000)) {
            fprintf(stderr, "kafka_read: no metadata for %s\n", topics[t]);
            exit(1);
        }
        for (int i = 0; md->topic_cnt == 1 && !md->topics[0].err &&
                        i < md->topics[0].partition_cnt;
             i++, parts++)
            rd_kafka_topic_partition_list_add(l, topics[t],
                                              md->topics[0].partitions[i].id)
                ->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
    }
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return parts;
}

int main(int argc, char **argv)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[256];
    rd_kafka_t *rk;
    time_t deadline = time(NULL) + 30;
    int parts, eofs = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: kafka_read BOOTSTRAP TOPIC...\n");
        return 1;
    }
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr,
                          sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "isolation.level", "read_committed", errstr,
                          sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr,
                          sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "group.id", "kafka_read", errstr,
                          sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr,
                          sizeof(errstr))) {
        fprintf(stderr, "kafka_read: %s\n", errstr);
        return 1;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "kafka_read: %s\n", errstr);
        return 1;
    }
    parts = assign(rk, argv + 2, argc - 2);
    while (eofs < parts) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

        if (!m) {
            if (time(NULL) > deadline) {
                fprintf(stderr, "kafka_read: end not reached\n");
                return 2;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            eofs++;
        else if (m->err)
            fprintf(stderr, "kafka_read: %s\n", rd_kafka_message_errstr(m));
        else
            print(m);
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}
