// Changes cyredis applies to the pristine hiredis 1.2.0 sources after their hashes are checked.
// Each patch replaces one exact snippet; a snippet that is not found exactly once fails the
// materialisation, so a different upstream file can never be patched by accident.
//
// Why: hiredis 1.2.0 declares REDIS_REPLY_ATTR but its reader rejects RESP3 attributes ('|')
// and blob errors ('!') with "Protocol error, got '|' as reply type byte". Redis may send
// both under RESP3, and the protocol core must decode every RESP3 type.

export const PATCH_LEVEL = 1;

export const patches = [
  {
    file: 'read.h',
    find: '#define REDIS_REPLY_VERB 14\n',
    replace:
      '#define REDIS_REPLY_VERB 14\n' +
      '#define REDIS_REPLY_BULK_ERROR 15 /* cyredis patch: RESP3 blob error (!) */\n',
  },
  {
    file: 'read.c',
    find: "            case '(':\n                cur->type = REDIS_REPLY_BIGNUM;\n                break;\n",
    replace:
      "            case '(':\n                cur->type = REDIS_REPLY_BIGNUM;\n                break;\n" +
      "            case '!': /* cyredis patch */\n                cur->type = REDIS_REPLY_BULK_ERROR;\n                break;\n" +
      "            case '|': /* cyredis patch */\n                cur->type = REDIS_REPLY_ATTR;\n                break;\n",
  },
  {
    file: 'read.c',
    find: '    case REDIS_REPLY_STRING:\n    case REDIS_REPLY_VERB:\n        return processBulkItem(r);\n',
    replace:
      '    case REDIS_REPLY_STRING:\n    case REDIS_REPLY_VERB:\n    case REDIS_REPLY_BULK_ERROR: /* cyredis patch */\n        return processBulkItem(r);\n',
  },
  {
    file: 'read.c',
    find: '    case REDIS_REPLY_SET:\n    case REDIS_REPLY_PUSH:\n        return processAggregateItem(r);\n',
    replace:
      '    case REDIS_REPLY_SET:\n    case REDIS_REPLY_PUSH:\n    case REDIS_REPLY_ATTR: /* cyredis patch */\n        return processAggregateItem(r);\n',
  },
  {
    file: 'read.c',
    find: '            if (cur->type == REDIS_REPLY_MAP) elements *= 2;\n',
    replace:
      '            if (cur->type == REDIS_REPLY_MAP || cur->type == REDIS_REPLY_ATTR) elements *= 2; /* cyredis patch */\n',
  },
  {
    file: 'read.c',
    find: '    while (r->ridx >= 0) {\n        /* Return a.s.a.p. when the stack is now empty. */\n',
    replace:
      '    while (r->ridx >= 0) {\n' +
      '        /* cyredis patch: a finished attribute annotates the item that follows it at the\n' +
      '         * same position and is not an element itself, so read that item next. */\n' +
      '        if (r->task[r->ridx]->type == REDIS_REPLY_ATTR) {\n' +
      '            r->task[r->ridx]->type = -1;\n' +
      '            r->task[r->ridx]->elements = -1;\n' +
      '            return;\n' +
      '        }\n' +
      '        /* Return a.s.a.p. when the stack is now empty. */\n',
  },
  {
    file: 'read.c',
    find: '               prv->type == REDIS_REPLY_SET ||\n               prv->type == REDIS_REPLY_PUSH);\n',
    replace:
      '               prv->type == REDIS_REPLY_SET ||\n               prv->type == REDIS_REPLY_PUSH ||\n               prv->type == REDIS_REPLY_ATTR); /* cyredis patch */\n',
  },
];
