import DRLData
import DRLNN
import DRLRanking
import DRLSimulation
import DRLTensor
import Foundation

extension FuzzTarget {
    /// Valid inputs made by DRLRec's own writers, the start of each target's corpus (`drlrec-fuzz
    /// seed DIR`): the fuzzer mutates from files the readers accept, so it reaches past their first
    /// checks.
    public var seeds: [[UInt8]] {
        switch self {
        case .safetensors:
            let path = FuzzScratch.directory + "/seed.safetensors"
            let log = SyntheticLog.generate(users: 6, items: 12, eventsPerUser: 4, seed: 1)
            var settings = NextItemModel.Configuration()
            (settings.historyLength, settings.dimension) = (4, 8)
            let model = NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), configuration: settings, seed: 1)
            try! model.save(to: path, servingOnly: true)
            let nextItem = [UInt8](FileManager.default.contents(atPath: path)!)
            try! SafeTensors.write([("a", Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])), ("b", Tensor(shape: [0], scalars: []))],
                                   metadata: ["note": "two tensors"], to: path)
            return [nextItem, [UInt8](FileManager.default.contents(atPath: path)!)]
        case .cache:
            return [LogCacheTarget.seed]
        case .interactions:
            let plain = SyntheticLog.generate(users: 4, items: 6, eventsPerUser: 3, seed: 2).csv()
            let served = ["user,item,timestamp,event,value,propensity,impression,position,version,arm,hour",
                          #"u1,i2,100,impression,1,0.25,"list,1",1,v1,control,0.5"#,
                          #"u1,i2,101,purchase,19.99,,"list,1",1,v1,control,0.5"#,
                          #""u ""2""",i3,102,click,1,,,,,,1"#].joined(separator: "\n") + "\n"
            return [Array(plain.utf8), Array(served.utf8)]
        case .configuration:
            return [ConfigurationFile.text(of: EcommerceConfiguration()), ConfigurationFile.text(of: VideoFeedConfiguration()),
                    ConfigurationFile.text(of: EducationConfiguration())].map { Array($0.utf8) }
        case .registry:
            return RegistryTarget.seeds()
        case .requests:
            return [#"{"user_id":"u1","k":5,"context":{"hour":0.5},"exclude_seen":false,"candidates":["i1","i2"]}"#,
                    #"{"user_id":"u2","history":[{"item_id":"i3","event":"click","value":1,"timestamp":100}]}"#,
                    #"{"user_id":"u1","item_id":"i2","event":"purchase","value":19.5,"impression_id":"a-b","position":2}"#,
                    #"{"user_id":"\u00e9\ud83d\ude00","item_id":"i\n","event":"click","timestamp":1e3,"context":{}}"#,
                    #"[1,-0.0e-3,true,null,"x",{"a":[[]]}]"#].map { Array($0.utf8) }
        }
    }
}
