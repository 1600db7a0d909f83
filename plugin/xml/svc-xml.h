/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the libvirt XML files of libspicevmc share: libxml2 cleanups and limits. */
#pragma once

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "svc-private.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNGParserCtxt, xmlRelaxNGFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNG, xmlRelaxNGFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNGValidCtxt, xmlRelaxNGFreeValidCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

/* Attribute @name of @node (NULL safe), to free; and the first child element named @name. */
char *svc_xml_attr(xmlNode *node, const char *name);
xmlNode *svc_xml_child(xmlNode *node, const char *name);

/* Device XML for libvirt (xml-write.c). */
char *svc_xml_for_channels(GPtrArray *channels);
char *svc_xml_for_libvirt(const SvcChannel *ch, GError **error);
