# Builds hiredis 1.2.0 as a static library from vendor/hiredis/src, which materialise.mjs
# fills at install time (the sources are never committed; see PROVENANCE.md).
{
  'targets': [
    {
      'target_name': 'hiredis',
      'type': 'static_library',
      'sources': [
        'src/alloc.c',
        'src/async.c',
        'src/hiredis.c',
        'src/net.c',
        'src/read.c',
        'src/sds.c',
      ],
      'include_dirs': ['src'],
      'direct_dependent_settings': { 'include_dirs': ['src'] },
      # Third-party code: built as upstream ships it, without our -Werror set.
      'cflags': ['-std=c99', '-O3', '-fPIC', '-w'],
      'cflags!': ['-Werror'],
      'defines': ['_GNU_SOURCE'],
      'xcode_settings': { 'GCC_OPTIMIZATION_LEVEL': '3', 'WARNING_CFLAGS': ['-w'] },
    },
  ],
}
