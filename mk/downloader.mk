# downloader fragment: the downloader-full and downloader-light plugins (one
# source set, two modules; plugins/downloader/downloader.h), their unit and
# integration tests (docs/downloader.md).
DL_PLUGIN_SRCS = plugins/downloader/downloader.c plugins/downloader/peer_record.c \
	plugins/downloader/dl_headers.c plugins/downloader/dl_blocks.c
noinst_HEADERS += plugins/downloader/downloader.h plugins/downloader/peer_record.h

plugin_LTLIBRARIES += plugins/downloader/downloader-full.la plugins/downloader/downloader-light.la
plugins_downloader_downloader_full_la_SOURCES = plugins/downloader/full.c $(DL_PLUGIN_SRCS)
plugins_downloader_downloader_full_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS)
plugins_downloader_downloader_full_la_LDFLAGS = $(ETHD_MODULE_FLAGS)
plugins_downloader_downloader_full_la_LIBADD = libethd.la $(LIBEVENT_LIBS) $(JANSSON_LIBS)
plugins_downloader_downloader_light_la_SOURCES = plugins/downloader/light.c $(DL_PLUGIN_SRCS)
plugins_downloader_downloader_light_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS)
plugins_downloader_downloader_light_la_LDFLAGS = $(ETHD_MODULE_FLAGS)
plugins_downloader_downloader_light_la_LIBADD = libethd.la $(LIBEVENT_LIBS) $(JANSSON_LIBS)

# The per-peer record: pure arithmetic, linked straight into its test.
check_PROGRAMS += tests/unit/test_peer_record
TESTS += tests/unit/test_peer_record
tests_unit_test_peer_record_SOURCES = tests/unit/test_peer_record.c plugins/downloader/peer_record.c
tests_unit_test_peer_record_CFLAGS = $(ETHD_UNIT_CFLAGS) -I$(top_srcdir)/plugins/downloader
tests_unit_test_peer_record_LDADD = $(ETHD_UNIT_LIBS)

# Three ethd nodes: one serves devnet-a, one syncs it full, one light; and
# kill -9 during a sync, repeated.
DL_INTEGRATION_TESTS = tests/integration/test_sync.sh tests/integration/test_sync_kill.sh
TESTS += $(DL_INTEGRATION_TESTS)
check_SCRIPTS += $(DL_INTEGRATION_TESTS)
EXTRA_DIST += $(DL_INTEGRATION_TESTS)
