import XCTest
@testable import NSTEngine

final class VGGArchitectureTests: XCTestCase {
    func testLayerCountsAndOrder() {
        XCTAssertEqual(VGGArchitecture.vgg19.layers.count, 16 * 2 + 5)
        XCTAssertEqual(VGGArchitecture.vgg16.layers.count, 13 * 2 + 5)
        XCTAssertEqual(Array(VGGArchitecture.vgg19.layerNames.prefix(6)),
                       ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1", "conv2_1"])
        XCTAssertEqual(VGGArchitecture.vgg19.layerNames.last, "pool5")
        XCTAssertTrue(VGGArchitecture.vgg19.layerNames.contains("relu5_4"))
        XCTAssertFalse(VGGArchitecture.vgg16.layerNames.contains("conv3_4"))
    }

    func testChannelCounts() {
        let convs = VGGArchitecture.vgg16.convolutions
        XCTAssertEqual(convs.count, 13)
        XCTAssertEqual(convs[0].inChannels, 3)
        XCTAssertEqual(convs[0].outChannels, 64)
        XCTAssertEqual(convs.first { $0.name == "conv3_1" }!.inChannels, 128)
        XCTAssertEqual(convs.first { $0.name == "conv5_3" }!.outChannels, 512)
        let relu42 = VGGArchitecture.vgg19.layers.first { $0.name == "relu4_2" }!
        XCTAssertEqual(relu42.channels, 512)
        XCTAssertEqual(relu42.operation, .relu)
    }
}
