// Word lists for the generated enterprises and sites (devices/fleets/city.yaml). Made-up names in the usual shape of
// Chengdu company registrations: 字号 + 行业 + 组织形式.

/** 字号 (trade names). */
export const BRANDS = [
  '蜀香', '川味', '锦城', '巴蜀', '老码头', '天府', '红油', '麻辣', '蓉城', '府河', '青城', '峨眉', '竹林', '望江', '春熙',
  '玉林', '宽窄', '芙蓉', '浣花', '金沙', '少城', '合江', '东湖', '龙泉', '双楠', '桐梓', '新南', '红星', '锦华', '锦里',
  '杜鹃', '银杏', '熊猫', '雪山', '岷江', '沱江', '都江', '邛崃', '西岭', '九眼', '一品', '蜀都', '嘉州', '盛世', '恒信',
  '鑫源', '华润', '佳和', '万福', '瑞丰', '兴隆', '聚源', '德馨', '宏达', '中和', '永丰', '安居', '泰和', '通达', '顺景',
];

/** Restaurant kinds (for 餐饮 tenants and their shop names). */
export const CUISINES = ['火锅', '串串香', '川菜馆', '小吃', '冒菜', '烤鱼', '中餐', '面馆', '钵钵鸡', '江湖菜', '烧烤', '家常菜'];

/** Commercial premises: tenant suffix and the name of its site. */
export const COMMERCIAL = [
  { suffix: '酒店管理有限公司', site: '大酒店' },
  { suffix: '商业管理有限公司', site: '购物中心' },
  { suffix: '超市有限公司', site: '生活超市' },
  { suffix: '养老服务有限公司', site: '颐养中心' },
  { suffix: '文化娱乐有限公司', site: '娱乐城' },
  { suffix: '医院管理有限公司', site: '医院' },
] as const;

/** Industries with combustible dust (粉尘涉爆); `wet` ones collect metal dust in wet collectors (AQ 4272). */
export const DUST_INDUSTRIES = [
  { suffix: '木业有限公司', workshop: '木工车间', wet: false },
  { suffix: '家具制造有限公司', workshop: '砂光车间', wet: false },
  { suffix: '饲料有限公司', workshop: '粉碎车间', wet: false },
  { suffix: '面粉有限公司', workshop: '制粉车间', wet: false },
  { suffix: '纺织有限公司', workshop: '梳棉车间', wet: false },
  { suffix: '铝业有限公司', workshop: '抛光车间', wet: true },
  { suffix: '金属制品有限公司', workshop: '打磨车间', wet: true },
] as const;

/** Residential compound name endings. */
export const COMPOUNDS = ['花园', '小区', '家园', '华庭', '公馆', '苑', '雅居', '新城', '丽景', '名都'];

/** Kitchen and hall locations of a restaurant's devices. */
export const KITCHEN_SPOTS = ['后厨灶台上方', '后厨燃气表旁', '后厨炒灶区', '面点间', '燃气管道阀门处'];
export const HALL_SPOTS = ['大堂', '包间走廊', '备餐间', '收银台上方', '二楼大厅'];
