# Core runtime: node lifecycle, plugin loader, registry, log, bus, CLI.
libethd_la_SOURCES += core/error.c core/node.c
ethdinclude_HEADERS += include/ethd/ethd.h include/ethd/error.h include/ethd/log.h \
	include/ethd/bus.h include/ethd/config.h include/ethd/store.h include/ethd/rpc.h \
	include/ethd/plugin.h
noinst_HEADERS += core/conf.h core/rpc/server.h
EXTRA_DIST += include/ethd/version.h.in ethd-plugin.pc.in
