#include "chat_corpus.h"

#include <random>
#include <string_view>

namespace pgveil::bench {

namespace {

// Sentences of ordinary chat, with the numbers people use every day.
constexpr std::string_view kSmallTalk[] = {
    "你好呀，今天过得怎么样？",
    "我离婚了，有一个女儿。你呢？",
    "老家在山东，现在在上海做点小生意。",
    "周末有空吗？想约你去看电影。",
    "我今年28岁，身高175cm，体重65kg。",
    "刚下班，今天加班到9点，好累啊。",
    "你喜欢吃火锅还是日料？",
    "这件衣服1999元，打完折还要1500多。",
    "我们公司在浦东，每天通勤一个多小时。",
    "2024年5月12日那天你在干嘛？",
    "晚上7点半在星巴克见好不好？",
    "我养了两只猫，一只橘猫一只狸花。",
    "月薪大概12000左右，有房有车。",
    "最近在学游泳，一周去3次。",
    "哈哈哈，你太可爱了😂",
    "我是90后，属马的，你呢？",
    "昨天跑了5公里，今天腿好酸。",
    "下个月想去成都玩三天，有推荐吗？",
    "VIP套餐三个月6800，一年19800，你觉得值吗？",
    "你平时喜欢看什么书？我最近在看《三体》。",
    "家里有三口人，爸妈都退休了。",
    "明天下午3点开会，可能回复慢一点。",
    "我住在3号楼2单元，离地铁站500米。",
    "早点休息吧，晚安🌙",
    "你的照片好好看，是在哪里拍的？",
    "我比较喜欢安静的生活，周末一般在家做饭。",
    "上次那家店人均150，味道一般般。",
    "今天天气真好，26度，适合出去走走。",
    "我在一家互联网公司做产品经理，工作5年了。",
    "你觉得两个人在一起最重要的是什么？",
    "I just got back from work, how was your day?",
    "Let's meet at 7:30pm near the station, ok?",
    "好的，那就这么定了👌",
    "不好意思刚才在开会，现在有空了。",
    "订单号2024051219301234已经发货了，快递明天到。",
    "我妈一直催我结婚，压力好大。",
    "你有兄弟姐妹吗？我有一个哥哥。",
    "聊了这么久，感觉我们挺合得来的。",
};

// Messages with contact or identity details, disguised the usual ways.
constexpr std::string_view kContacts[] = {
    "加我微信吧 zhang_san88，这里回复不及时",
    "我的电话13812345678，有空打给我",
    "号码是 139 1234 5678，晚上打",
    "vx：lily_2024，备注一下是谁",
    "电话幺三八一二三四五六七八",
    "QQ：123456789，我常在线",
    "+86 186-8888-9999 这是我的号",
    "邮箱 zhangsan@163.com，照片发这里",
    "１３８１２３４５６７８ 打这个",
    "身份证11010519491231002X，帮我查一下",
    "卡号6222025260181590832，钱打这里",
    "1😀3😀8😀1😀2😀3😀4😀5😀6😀7😀8",
};

uint32_t Pick(std::mt19937& rng, size_t n) { return static_cast<uint32_t>(rng() % n); }

}  // namespace

std::vector<std::string> MakeChatCorpus(const ChatCorpusOptions& options) {
  std::mt19937 rng(options.seed);
  std::vector<std::string> messages;
  messages.reserve(options.messages);
  const auto contact_threshold = static_cast<uint32_t>(options.contact_share * 1000000);
  for (size_t i = 0; i < options.messages; ++i) {
    std::string m;
    const uint32_t sentences = 1 + Pick(rng, 3);
    for (uint32_t s = 0; s < sentences; ++s) {
      m += kSmallTalk[Pick(rng, std::size(kSmallTalk))];
    }
    if (rng() % 1000000 < contact_threshold) {
      m += kContacts[Pick(rng, std::size(kContacts))];
    }
    messages.push_back(std::move(m));
  }
  return messages;
}

}  // namespace pgveil::bench
