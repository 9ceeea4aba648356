# Core runtime: node lifecycle, plugin loader, registry, log, bus, CLI.
libethd_la_SOURCES += core/error.c core/log.c core/bus.c core/node.c core/version.c
ethdinclude_HEADERS += include/ethd/ethd.h include/ethd/error.h include/ethd/log.h \
	include/ethd/bus.h include/ethd/config.h include/ethd/store.h include/ethd/rpc.h \
	include/ethd/plugin.h
noinst_HEADERS += core/conf.h core/rpc/server.h core/log.h core/bus.h core/version.h
EXTRA_DIST += include/ethd/version.h.in ethd-plugin.pc.in
libethd_la_SOURCES += core/registry.c core/loader.c core/datadir.c core/node_api.c \
	core/cli.c
nodist_libethd_la_SOURCES = core/default_config.c core/light_config.c
noinst_HEADERS += core/registry.h core/loader.h core/datadir.h core/node.h core/cli.h
BUILT_SOURCES = core/default_config.c core/light_config.c
CLEANFILES += core/default_config.c core/light_config.c

# The embedded default configuration is etc/ethd.yaml, compiled in as a string.
core/default_config.c: $(top_srcdir)/etc/ethd.yaml $(top_srcdir)/build-aux/embed.sh
	@mkdir -p core
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/build-aux/embed.sh ethd_default_config $< > $@.tmp && mv $@.tmp $@

# `ethd --light` without -c runs etc/light.yaml, compiled in the same way.
core/light_config.c: $(top_srcdir)/etc/light.yaml $(top_srcdir)/build-aux/embed.sh
	@mkdir -p core
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/build-aux/embed.sh ethd_light_config $< > $@.tmp && mv $@.tmp $@

# The dev chain's genesis (etc/dev-genesis.json), compiled in: `chain.genesis:
# dev` uses it, so the embedded default runs the dev chain from any directory.
nodist_libethd_la_SOURCES += core/dev_genesis.c
BUILT_SOURCES += core/dev_genesis.c
CLEANFILES += core/dev_genesis.c
core/dev_genesis.c: $(top_srcdir)/etc/dev-genesis.json $(top_srcdir)/build-aux/embed.sh
	@mkdir -p core
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/build-aux/embed.sh ethd_dev_genesis $< > $@.tmp && mv $@.tmp $@
EXTRA_DIST += build-aux/embed.sh
