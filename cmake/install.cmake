# What `cmake --install` (and so the Debian package, scripts/package.sh) puts where. With
# CMAKE_INSTALL_PREFIX=/usr, GNUInstallDirs maps the configuration to /etc and the state to /var.
include(GNUInstallDirs)

install(TARGETS sextant-control sextant-dataplane sextant-exporter
        RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS sextantctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(SX_PKG ${CMAKE_SOURCE_DIR}/packaging)
set(SX_SYSCONF ${CMAKE_INSTALL_FULL_SYSCONFDIR})
install(FILES ${CMAKE_SOURCE_DIR}/examples/package/sextant.yaml
              ${CMAKE_SOURCE_DIR}/examples/package/example.test.zone
        DESTINATION ${SX_SYSCONF}/sextant)  # root:sextant 0640 by postinst
install(FILES ${SX_PKG}/sextant-dataplane.default DESTINATION ${SX_SYSCONF}/default
        RENAME sextant-dataplane)
install(FILES ${SX_PKG}/sextant-exporter.default DESTINATION ${SX_SYSCONF}/default
        RENAME sextant-exporter)

# systemd's own directories when installing into /usr (Debian 12: units in /lib/systemd/system),
# else under the prefix.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(SX_UNITDIR /lib/systemd/system)
else()
  set(SX_UNITDIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
install(FILES ${SX_PKG}/sextant-control.service ${SX_PKG}/sextant-dataplane.service
              ${SX_PKG}/sextant-exporter.service
        DESTINATION ${SX_UNITDIR})
# bash-completion loads it on demand, by the command's name.
install(FILES ${SX_PKG}/sextantctl.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME sextantctl)
install(FILES ${SX_PKG}/sextant.sysusers DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d
        RENAME sextant.conf)
install(FILES ${SX_PKG}/sextant.tmpfiles DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d
        RENAME sextant.conf)
# Debian's changelog, compressed as policy asks (gzip -9n: no name, no time stamp).
set(SX_CHANGELOG ${CMAKE_BINARY_DIR}/changelog.Debian.gz)
add_custom_command(OUTPUT ${SX_CHANGELOG}
  COMMAND gzip -9nc ${SX_PKG}/changelog > ${SX_CHANGELOG}
  DEPENDS ${SX_PKG}/changelog)
add_custom_target(sextant_changelog ALL DEPENDS ${SX_CHANGELOG})
install(FILES ${SX_CHANGELOG} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Man pages (docs/man, mdoc), compressed the same way.
foreach(page sextant-control.8 sextant-dataplane.8 sextant-exporter.8 sextantctl.8 sextant.yaml.5)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
  set(gz ${CMAKE_BINARY_DIR}/man/${page}.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND gzip -9nc ${CMAKE_SOURCE_DIR}/docs/man/${page} > ${gz}
    DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/${page})
  list(APPEND SX_MAN_GZ ${gz})
  install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(sextant_man ALL DEPENDS ${SX_MAN_GZ})
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/ARCHITECTURE.md
              ${SX_PKG}/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# sextantctl's JSON Schemas (sextantctl(8)), for scripts that check what they parse.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/schema/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/schema
        FILES_MATCHING PATTERN "*.schema.json")
install(FILES ${SX_PKG}/sextant-dataplane-dpdk.conf ${CMAKE_SOURCE_DIR}/examples/demo/sextant.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# The Grafana dashboard and the Prometheus alert rules (README, "Metrics").
install(FILES ${CMAKE_SOURCE_DIR}/examples/grafana/sextant.json
              ${CMAKE_SOURCE_DIR}/examples/prometheus/sextant-alerts.yml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# The Debian package: `cpack -G DEB` in a build configured by scripts/package.sh.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sextant)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Sextant developers <sextant@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "geo-aware, health-aware authoritative DNS server on DPDK")
set(CPACK_PACKAGE_DESCRIPTION
    "Sextant answers authoritative DNS at line rate from a DPDK dataplane (or\n"
    "kernel sockets), handing out health-filtered record sets and the records of\n"
    "the nearest or lowest-latency healthy datacenter for each client. A separate\n"
    "control plane parses zones and config, compiles MaxMind GeoIP databases, runs\n"
    "health checks and publishes snapshots to the dataplane through shared memory.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)  # 0.1.0-1: packaged by upstream, but not a native package
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | systemd-standalone-sysusers")
# libfstrm0 and libprotobuf-c1 (dnstap) come in through SHLIBDEPS; dnstap-ldns and fstrm-bin
# read and capture what dnstap: writes.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "dpdk, knot-dnsutils, dnstap-ldns, fstrm-bin")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${SX_PKG}/debian/conffiles ${SX_PKG}/debian/postinst ${SX_PKG}/debian/postrm)
set(CPACK_STRIP_FILES TRUE)
include(CPack)
