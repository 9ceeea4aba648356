# Plugins shipped with ethd (installed to $(plugindir)) and test plugins.
plugin_LTLIBRARIES += plugins/example/example.la
plugins_example_example_la_SOURCES = plugins/example/example.c
plugins_example_example_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS)
plugins_example_example_la_LDFLAGS = $(ETHD_MODULE_FLAGS)
plugins_example_example_la_LIBADD = libethd.la $(LIBEVENT_LIBS) $(JANSSON_LIBS)

# Test plugins: built for `make check` only (-rpath makes libtool build them shared).
TEST_PLUGIN_FLAGS = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES = tests/plugin/lifecycle.la tests/plugin/notaplugin.la \
	tests/plugin/badabi.la tests/plugin/bigdesc.la tests/plugin/initfail.la \
	tests/plugin/dupservice.la
tests_plugin_lifecycle_la_SOURCES = tests/plugin/lifecycle.c
tests_plugin_lifecycle_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_plugin_lifecycle_la_LDFLAGS = $(TEST_PLUGIN_FLAGS)
tests_plugin_lifecycle_la_LIBADD = libethd.la
tests_plugin_notaplugin_la_SOURCES = tests/plugin/notaplugin.c
tests_plugin_notaplugin_la_LDFLAGS = $(TEST_PLUGIN_FLAGS)
tests_plugin_badabi_la_SOURCES = tests/plugin/badabi.c
tests_plugin_badabi_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_plugin_badabi_la_LDFLAGS = $(TEST_PLUGIN_FLAGS)
tests_plugin_bigdesc_la_SOURCES = tests/plugin/bigdesc.c
tests_plugin_bigdesc_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_plugin_bigdesc_la_LDFLAGS = $(TEST_PLUGIN_FLAGS)
tests_plugin_initfail_la_SOURCES = tests/plugin/initfail.c
tests_plugin_initfail_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_plugin_initfail_la_LDFLAGS = $(TEST_PLUGIN_FLAGS)
tests_plugin_initfail_la_LIBADD = libethd.la
tests_plugin_dupservice_la_SOURCES = tests/plugin/dupservice.c
tests_plugin_dupservice_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_plugin_dupservice_la_LDFLAGS = $(TEST_PLUGIN_FLAGS)
tests_plugin_dupservice_la_LIBADD = libethd.la
