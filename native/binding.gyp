# The cyredis native addon (node-addon-api over hiredis). Our own C++ builds with
# -Wall -Wextra -Werror; hiredis is a separate static library built as upstream ships it.
{
  'targets': [
    {
      'target_name': 'cyredis',
      'sources': [
        'src/addon.cc',
        'src/connection.cc',
        'src/reader.cc',
        'src/reply_builder.cc',
      ],
      'dependencies': ['../vendor/hiredis/hiredis.gyp:hiredis'],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      'defines': ['NAPI_VERSION=8', 'NAPI_DISABLE_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED', 'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS'],
      'cflags_cc': ['-std=c++17', '-O3', '-Wall', '-Wextra', '-Werror', '-fno-exceptions'],
      'cflags_cc!': ['-fno-rtti'],
      'xcode_settings': {
        'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
        'GCC_OPTIMIZATION_LEVEL': '3',
        'OTHER_CPLUSPLUSFLAGS': ['-Wall', '-Wextra', '-Werror'],
      },
    },
  ],
}
