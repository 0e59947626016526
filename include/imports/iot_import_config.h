/*
 * Compatibility header: the vendor SDK's build-configuration knobs.
 *
 * The vendor generated this file from its make system. Our library is
 * configured through Cargo features instead, so nothing here changes its
 * behaviour; the header exists only because vendor code includes it by name.
 */
#ifndef IOT_IMPORT_CONFIG_H
#define IOT_IMPORT_CONFIG_H

#endif /* IOT_IMPORT_CONFIG_H */
