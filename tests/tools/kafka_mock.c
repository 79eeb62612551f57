/*
 * Test helper: librdkafka's mock cluster (an in-process implementation of
 * the broker protocol, transactions included) as a stand-alone process.
 * Prints "bootstrap HOST:PORT,..." on stdout, then obeys one command per
 * line on stdin, answering "ok" (or "error ...") to each, and keeps running
 * until killed (stdin at its end changes nothing):
 *
 *   topic NAME PARTITIONS          create a topic
 *   err APIKEY CODE...             the next requests of that kind fail
 *                                  with these librdkafka error codes
 *   down BROKER | up BROKER        a broker (or -1: all) stops / starts
 *                                  answering
 *   rtt BROKER MS                  a slow broker
 *   coord TRANSACTIONAL_ID BROKER  move a transaction coordinator
 *   produce TOPIC KEY FILE         one record, FILE's bytes its value, as
 *                                  any client could write it (a forgery)
 *
 * What the mock does not do (librdkafka 2.0.2): it writes no commit or
 * abort markers and answers Fetch with LastStableOffset = the end, so a
 * read_committed consumer also sees records of aborted or open
 * transactions. Tests account for it (README, "Kafka").
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One record, not in a transaction, through a producer of our own. */
static rd_kafka_resp_err_t produce(rd_kafka_mock_cluster_t *mc,
                                   const char *topic, const char *key,
                                   const char *file)
{
    static rd_kafka_t *pr;
    static char value[65536];
    rd_kafka_topic_t *rkt;
    rd_kafka_resp_err_t err;
    char errstr[256];
    FILE *f = fopen(file, "rb");
    size_t n;

    if (!f)
        return RD_KAFKA_RESP_ERR__INVALID_ARG;
    n = fread(value, 1, sizeof(value), f);
    fclose(f);
    if (!pr) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();

        if (rd_kafka_conf_set(conf, "bootstrap.servers",
                              rd_kafka_mock_cluster_bootstraps(mc), errstr,
                              sizeof(errstr)) != RD_KAFKA_CONF_OK)
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        pr = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!pr)
            return RD_KAFKA_RESP_ERR__FAIL;
    }
    rkt = rd_kafka_topic_new(pr, topic, NULL);
    if (!rkt)
        return RD_KAFKA_RESP_ERR__FAIL;
    err = rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                           value, n, key, strlen(key), NULL) == 0
              ? rd_kafka_flush(pr, 10000)
              : rd_kafka_last_error();
    rd_kafka_topic_destroy(rkt);
    return err;
}

static int command(rd_kafka_mock_cluster_t *mc, char *line)
{
    char *argv[16];
    int argc = 0;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

    for (char *t = strtok(line, " \t\n"); t && argc < 16;
         t = strtok(NULL, " \t\n"))
        argv[argc++] = t;
    if (argc == 0)
        return 0;
    if (strcmp(argv[0], "topic") == 0 && argc == 3) {
        err = rd_kafka_mock_topic_create(mc, argv[1], atoi(argv[2]), 1);
    } else if (strcmp(argv[0], "err") == 0 && argc >= 3) {
        rd_kafka_resp_err_t codes[14];
        size_t n = 0;

        for (int i = 2; i < argc; i++)
            codes[n++] = (rd_kafka_resp_err_t)atoi(argv[i]);
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)atoi(argv[1]), n,
                                                codes);
    } else if (strcmp(argv[0], "down") == 0 && argc == 2) {
        err = rd_kafka_mock_broker_set_down(mc, atoi(argv[1]));
    } else if (strcmp(argv[0], "up") == 0 && argc == 2) {
        err = rd_kafka_mock_broker_set_up(mc, atoi(argv[1]));
    } else if (strcmp(argv[0], "rtt") == 0 && argc == 3) {
        err = rd_kafka_mock_broker_set_rtt(mc, atoi(argv[1]), atoi(argv[2]));
    } else if (strcmp(argv[0], "coord") == 0 && argc == 3) {
        err = rd_kafka_mock_coordinator_set(mc, "transaction", argv[1],
                                            atoi(argv[2]));
    } else if (strcmp(argv[0], "produce") == 0 && argc == 4) {
        err = produce(mc, argv[1], argv[2], argv[3]);
    } else {
        printf("error unknown command %s\n", argv[0]);
        return -1;
    }
    if (err)
        printf("error %s\n", rd_kafka_err2str(err));
    else
        printf("ok\n");
    return err ? -1 : 0;
}

int main(int argc, char **argv)
{
    int brokers = argc > 1 ? atoi(argv[1]) : 3;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_mock_cluster_t *mc;
    char errstr[256], line[1024];
    rd_kafka_t *rk;

    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", errstr);
        return 1;
    }
    mc = rd_kafka_mock_cluster_new(rk, brokers > 0 ? brokers : 3);
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    while (fgets(line, sizeof(line), stdin))
        (void)command(mc, line);
    for (;;)
        pause();
}
