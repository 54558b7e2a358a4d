# Turns web/i18n/<code>.json (one catalogue per language: key -> text) into
# a C table {code, data, len} for core/i18n.c, so that every program (not
# only llaved's web pages) writes its texts, e-mails and SMS from the same
# catalogues (issue 15 item 1): adding a language is adding a file.
file(GLOB files RELATIVE ${I18N_DIR} ${I18N_DIR}/*.json)
list(SORT files)
set(body "/* generated from web/i18n/ by cmake/embed_i18n.cmake; do not edit */\n#include \"core/i18n_internal.h\"\n\n")
set(table "const lv_catalogue_src lv_catalogue_srcs[] = {\n")
set(i 0)
foreach(f ${files})
  get_filename_component(code ${f} NAME_WE)
  file(READ ${I18N_DIR}/${f} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const unsigned char cat${i}[] = {${hex}};\n")
  string(APPEND table "    {\"${code}\", cat${i}, ${len}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND table "};\nconst size_t lv_catalogue_srcs_count = sizeof lv_catalogue_srcs / sizeof lv_catalogue_srcs[0];\n")
file(WRITE ${OUT} "${body}\n${table}")
